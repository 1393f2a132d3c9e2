/// The training augmentation chain of the official configs, with its parameters in one value:
/// RandomResize -> RandomCrop -> RandomFlip -> PhotoMetricDistortion -> Normalize -> Pad to the crop.
/// (reduce_zero_label belongs to the data set: it is applied when the labels are loaded.)
public struct TrainPipeline: Sendable {
    public var resize: RandomResize
    public var crop: RandomCrop
    public var flip: RandomFlip
    /// nil switches the colour jitter off.
    public var photometric: PhotoMetricDistortion?
    public var normalize: Normalize

    public init(resize: RandomResize, crop: RandomCrop, flip: RandomFlip = RandomFlip(),
                photometric: PhotoMetricDistortion? = PhotoMetricDistortion(), normalize: Normalize = .imagenet) {
        self.resize = resize
        self.crop = crop
        self.flip = flip
        self.photometric = photometric
        self.normalize = normalize
    }

    /// Pads crops up to the crop size (0 for the normalised image, 255 for labels), so every batch
    /// has one size; derived from `crop` so the two cannot disagree.
    public var pad: Pad { Pad(size: crop.size) }

    /// The size of every output sample.
    public var outputSize: (height: Int, width: Int) { crop.size }

    /// ADE20K (`*_ade20k-512x512`): scale (2048, 512) for crop 512, i.e. (4 crop, crop); (2560, 640) for 640.
    public static func ade20k(crop: Int = 512) -> TrainPipeline {
        standard(scale: (4 * crop, crop), crop: crop)
    }

    /// COCO-Stuff 164k: the ADE20K recipe.
    public static func cocoStuff(crop: Int = 512) -> TrainPipeline {
        standard(scale: (4 * crop, crop), crop: crop)
    }

    /// Cityscapes (`*_cityscapes-1024x1024`): scale (2048, 1024) for crop 1024, i.e. (2 crop, crop).
    public static func cityscapes(crop: Int = 1024) -> TrainPipeline {
        standard(scale: (2 * crop, crop), crop: crop)
    }

    private static func standard(scale: (Int, Int), crop: Int) -> TrainPipeline {
        TrainPipeline(resize: RandomResize(scale: scale, ratioRange: 0.5...2.0, keepRatio: true),
                      crop: RandomCrop(size: (crop, crop), catMaxRatio: 0.75, ignoreIndex: LabelMap.ignoreIndex))
    }

    /// The 8-bit stage: resize, crop, flip, colour jitter (useful to look at augmentations).
    public func augment<G: RandomNumberGenerator>(_ sample: SegSample, using rng: inout G) -> SegSample {
        var s = resize.apply(sample, using: &rng)
        s = crop.apply(s, using: &rng)
        s = flip.apply(s, using: &rng)
        if let photometric { s = photometric.apply(s, using: &rng) }
        return s
    }

    /// The full chain: a normalised CHW image and its labels, both padded to `outputSize`
    /// (image with 0 after normalisation, labels with 255, bottom/right, as mmseg's preprocessor).
    public func apply<G: RandomNumberGenerator>(_ sample: SegSample, using rng: inout G) -> (image: NormalizedImage, label: LabelMap) {
        let s = augment(sample, using: &rng)
        return pad.apply(image: normalize.apply(s.image), label: s.label)
    }
}

/// The evaluation chain: AlignResize then Normalize; labels are kept at their original size
/// (the engine resizes the logits back to them).
public struct TestPipeline: Sendable {
    public var resize: AlignResize
    public var normalize: Normalize

    public init(resize: AlignResize, normalize: Normalize = .imagenet) {
        self.resize = resize
        self.normalize = normalize
    }

    /// ADE20K: short side 512, long side at most 2048, multiples of 32 (640/2560 for the 640 models).
    public static func ade20k(shortSide: Int = 512) -> TestPipeline {
        TestPipeline(resize: AlignResize(scale: (4 * shortSide, shortSide), sizeDivisor: 32))
    }

    /// COCO-Stuff 164k: as ADE20K.
    public static func cocoStuff(shortSide: Int = 512) -> TestPipeline {
        ade20k(shortSide: shortSide)
    }

    /// Cityscapes: scale (2048, 1024), which leaves the 2048x1024 images as they are.
    public static func cityscapes(shortSide: Int = 1024) -> TestPipeline {
        TestPipeline(resize: AlignResize(scale: (2 * shortSide, shortSide), sizeDivisor: 32))
    }

    /// The resized 8-bit image.
    public func resized(_ image: Image) -> Image {
        resize.apply(image)
    }

    public func apply(_ image: Image) -> NormalizedImage {
        normalize.apply(resize.apply(image))
    }
}
