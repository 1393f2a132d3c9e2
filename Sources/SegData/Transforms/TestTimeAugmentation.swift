/// Multi-scale + flip test-time augmentation, as a list of views for the engine to run and average; every
/// size is run plain and, with `flip`, mirrored. What a ratio multiplies depends on the mmseg generation:
/// - `.testScale` (mmseg 0.x `MultiScaleFlipAug` with `img_ratios`): the base `scale`; the image is rescaled
///   into it keeping its aspect ratio and, when `sizeDivisor` is set, aligned up to a multiple of it;
/// - `.originalSize` (mmseg 1.x `tta_pipeline`, `Resize(scale_factor=r, keep_ratio=True)`): the image's own
///   size, with no rounding to a divisor.
public struct TestTimeAugmentation: Sendable {
    public enum RatioBase: Sendable { case testScale, originalSize }

    public var scale: (Int, Int)
    public var scales: [Double]
    public var flip: Bool
    public var sizeDivisor: Int?
    public var ratioBase: RatioBase

    public init(scale: (Int, Int) = (2048, 512), scales: [Double] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75],
                flip: Bool = true, sizeDivisor: Int? = 32, ratioBase: RatioBase = .testScale) {
        self.scale = scale
        self.scales = scales
        self.flip = flip
        self.sizeDivisor = sizeDivisor
        self.ratioBase = ratioBase
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
            let r: (width: Int, height: Int)
            switch ratioBase {
            case .testScale:
                r = Resize.rescaledSize(width: width, height: height, scale: (Int(Double(scale.0) * ratio), Int(Double(scale.1) * ratio)))
            case .originalSize:
                // mmcv: results['scale'] = _scale_size((w, h), r), then imrescale into it keeping the ratio.
                let target = Resize.scaledSize(width: width, height: height, factor: ratio)
                r = Resize.rescaledSize(width: width, height: height, scale: (target.width, target.height))
            }
            let rw = max(r.width, 1), rh = max(r.height, 1)
            var w = rw, h = rh
            if ratioBase == .testScale, let d = sizeDivisor, d > 0 {
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
