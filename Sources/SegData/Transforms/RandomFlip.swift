/// Horizontal flip of image and labels with probability `prob` (mmcv `RandomFlip`, direction horizontal).
public struct RandomFlip: Sendable {
    public var prob: Double

    public init(prob: Double = 0.5) {
        self.prob = prob
    }

    public func apply<G: RandomNumberGenerator>(_ sample: SegSample, using rng: inout G) -> SegSample {
        guard rng.chance(prob) else { return sample }
        return SegSample(image: sample.image.flippedHorizontally(), label: sample.label.flippedHorizontally())
    }
}
