/// A training batch in the layouts the model and the loss take.
public struct Batch: Sendable {
    /// (B, 3, H, W), normalised, row-major.
    public var images: [Float]
    /// (B, H, W) class indices, 255 = ignore.
    public var labels: [Int64]
    public var size: (h: Int, w: Int)
    public var batchSize: Int
    /// The data set index and epoch of each sample (for logs and debugging).
    public var indices: [Int]
    public var epochs: [Int]

    /// Stacks same-sized samples.
    init(samples: [(image: NormalizedImage, label: LabelMap)], indices: [Int], epochs: [Int]) {
        precondition(!samples.isEmpty, "Batch: no samples")
        let h = samples[0].image.height, w = samples[0].image.width
        var images: [Float] = []
        var labels: [Int64] = []
        images.reserveCapacity(samples.count * 3 * h * w)
        labels.reserveCapacity(samples.count * h * w)
        for s in samples {
            precondition(s.image.height == h && s.image.width == w && s.label.height == h && s.label.width == w,
                         "Batch: samples of different sizes (the pipeline must pad to one size)")
            images += s.image.values
            labels += s.label.labels.map { Int64($0) }
        }
        self.images = images
        self.labels = labels
        self.size = (h, w)
        self.batchSize = samples.count
        self.indices = indices
        self.epochs = epochs
    }
}
