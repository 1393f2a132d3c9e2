import Torch

/// How one image is run at test time.
public enum TestMode: String, CaseIterable, Sendable {
    /// The whole (resized) image in one forward pass.
    case whole
    /// Overlapping crops (mmseg's slide inference), logits averaged where they overlap.
    case slide
}

/// Which mmseg generation's test-time augmentation rule a family's official code uses.
public enum TTARule: String, CaseIterable, Sendable {
    /// mmseg 0.x `MultiScaleFlipAug`: the test scale times each ratio, then the family's resize (size divisor included).
    case scaleTestScale = "mmseg0x"
    /// mmseg 1.x `tta_pipeline`: the original image size times each ratio, no rounding.
    case scaleOriginal = "mmseg1x"
}

/// Multi-scale + flip test-time augmentation.
public struct TTAProtocol: Hashable, Codable, Sendable {
    public var ratios: [Double]
    public var flip: Bool
    public var rule: TTARule

    public init(ratios: [Double] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75], flip: Bool = true, rule: TTARule) {
        self.ratios = ratios
        self.flip = flip
        self.rule = rule
    }
}

/// A family's test pipeline on one dataset, as its official config defines it: the keep-ratio resize,
/// an optional rounding of the resized size, whole or slide inference, and the TTA views.
public struct TestProtocol: Hashable, Codable, Sendable {
    public var mode: TestMode
    /// Keep-ratio resize before inference (long, short).
    public var scale: ResizeScale
    /// Round the resized sides to a multiple of this ("AlignResize"); nil keeps the keep-ratio size as it is.
    public var sizeDivisor: Int?
    /// Slide mode: window size and step.
    public var slideCrop: Size2D
    public var slideStride: Size2D
    public var tta: TTAProtocol

    public init(mode: TestMode, scale: ResizeScale, sizeDivisor: Int? = nil, slideCrop: Size2D, slideStride: Size2D,
                tta: TTAProtocol) {
        self.mode = mode
        self.scale = scale
        self.sizeDivisor = sizeDivisor
        self.slideCrop = slideCrop
        self.slideStride = slideStride
        self.tta = tta
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case mode, scale, sizeDivisor, slideCrop, slideStride, tta }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(scale, forKey: .scale)
        try c.encode(sizeDivisor, forKey: .sizeDivisor)  // explicit null: "no rounding" must survive a reload
        try c.encode(slideCrop, forKey: .slideCrop)
        try c.encode(slideStride, forKey: .slideStride)
        try c.encode(tta, forKey: .tta)
    }

    /// mmseg's `slide_inference` needs stride <= crop: a larger stride leaves pixels no window covers.
    public var slideProblem: String? {
        guard mode == .slide else { return nil }
        if slideCrop.height <= 0 || slideCrop.width <= 0 || slideStride.height <= 0 || slideStride.width <= 0 {
            return "slide crop \(slideCrop) and stride \(slideStride) must be positive"
        }
        if slideStride.height > slideCrop.height || slideStride.width > slideCrop.width {
            return "slide stride \(slideStride) is larger than the crop \(slideCrop): some pixels would be covered by no window"
        }
        return nil
    }
}
