/// mmcv's `RandomResize` with `ratio_range`: the scale is multiplied by a ratio drawn uniformly from
/// `ratioRange` (each side truncated to an integer), then the sample is resized to it, keeping the
/// aspect ratio (mmcv `imrescale`) or not. Bilinear for the image, nearest for the labels.
public struct RandomResize: Sendable {
    /// mmcv's (w, h) order; with `keepRatio` only max (long-edge bound) and min (short-edge bound) matter.
    public var scale: (Int, Int)
    public var ratioRange: ClosedRange<Double>
    public var keepRatio: Bool

    public init(scale: (Int, Int), ratioRange: ClosedRange<Double> = 0.5...2.0, keepRatio: Bool = true) {
        self.scale = scale
        self.ratioRange = ratioRange
        self.keepRatio = keepRatio
    }

    /// Output size for an input size and a drawn ratio (mmcv's `_random_sample_ratio` then `rescale_size`).
    public func targetSize(width: Int, height: Int, ratio: Double) -> (width: Int, height: Int) {
        let s = (Int(Double(scale.0) * ratio), Int(Double(scale.1) * ratio))
        if keepRatio { return Resize.rescaledSize(width: width, height: height, scale: s) }
        return (s.0, s.1)
    }

    public func apply<G: RandomNumberGenerator>(_ sample: SegSample, using rng: inout G) -> SegSample {
        let ratio = rng.uniform(ratioRange.lowerBound, ratioRange.upperBound)
        let size = targetSize(width: sample.image.width, height: sample.image.height, ratio: ratio)
        let w = max(size.width, 1), h = max(size.height, 1)
        return SegSample(image: Resize.bilinear(sample.image, width: w, height: h),
                         label: Resize.nearest(sample.label, width: w, height: h))
    }
}
