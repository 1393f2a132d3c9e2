/// Multi-scale + flip test-time augmentation, as a list of views for the engine to run and average.
/// Each ratio multiplies the base `scale` (SegFormer's `MultiScaleFlipAug` with `img_ratios`), the image
/// is rescaled into it keeping its aspect ratio and, when `sizeDivisor` is set, aligned up to a multiple
/// of it (AlignResize); every size is run plain and, with `flip`, mirrored.
public struct TestTimeAugmentation: Sendable {
    public var scale: (Int, Int)
    public var scales: [Double]
    public var flip: Bool
    public var sizeDivisor: Int?

    public init(scale: (Int, Int) = (2048, 512), scales: [Double] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75],
                flip: Bool = true, sizeDivisor: Int? = 32) {
        self.scale = scale
        self.scales = scales
        self.flip = flip
        self.sizeDivisor = sizeDivisor
    }

    /// One view: resize the original image to `width` x `height` (two steps, as `AlignResize`, when
    /// `rescaled` differs), mirror it when `flipped`; the engine un-mirrors the logits before averaging.
    public struct View: Sendable, Equatable {
        public var ratio: Double
        public var flipped: Bool
        public var rescaledWidth: Int
        public var rescaledHeight: Int
        public var width: Int
        public var height: Int
    }

    public func views(width: Int, height: Int) -> [View] {
        var out: [View] = []
        for ratio in scales {
            let s = (Int(Double(scale.0) * ratio), Int(Double(scale.1) * ratio))
            let r = Resize.rescaledSize(width: width, height: height, scale: s)
            let rw = max(r.width, 1), rh = max(r.height, 1)
            var w = rw, h = rh
            if let d = sizeDivisor, d > 0 {
                w = (rw + d - 1) / d * d
                h = (rh + d - 1) / d * d
            }
            for flipped in flip ? [false, true] : [false] {
                out.append(View(ratio: ratio, flipped: flipped, rescaledWidth: rw, rescaledHeight: rh, width: w, height: h))
            }
        }
        return out
    }

    /// The resized (and possibly mirrored) 8-bit image of one view.
    public func render(_ image: Image, view: View) -> Image {
        var out = Resize.bilinear(image, width: view.rescaledWidth, height: view.rescaledHeight)
        out = Resize.bilinear(out, width: view.width, height: view.height)
        return view.flipped ? out.flippedHorizontally() : out
    }
}
