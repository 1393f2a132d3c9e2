import Foundation

/// One evaluation sample: the model input (resized by the test pipeline, normalised, batch of 1)
/// with the ground truth and image at their original size.
public struct EvalSample: Sendable {
    public var index: Int
    public var files: SampleFiles
    /// (1, 3, H, W) after AlignResize and Normalize.
    public var image: NormalizedImage
    /// Labels at the original image size, after reduce_zero_label; 255 = ignore.
    public var label: LabelMap
    /// The decoded image before resizing (for overlays).
    public var originalImage: Image

    public var size: (h: Int, w: Int) { (image.height, image.width) }
    public var originalSize: (h: Int, w: Int) { (label.height, label.width) }
}

/// A single ordered pass over a data set for evaluation, one image at a time, decoded and resized
/// on `workers` threads ahead of the caller.
///
/// With a `shard`, rank r of n visits images r, r + n, r + 2n, ...: disjoint parts that together are
/// the data set exactly once (no padding), so per-rank confusion matrices sum to the whole set's.
public final class EvalLoader {
    public let dataset: SegDataset
    public let pipeline: TestPipeline
    public let shard: SampleShard
    /// The data set indices this loader visits, in order.
    public let indices: [Int]
    private let prefetcher: Prefetcher<[Result<EvalSample, Error>]>
    /// The current group, reversed (next sample last).
    private var pending: [Result<EvalSample, Error>] = []
    private var failure: Error?

    public init(dataset: SegDataset, pipeline: TestPipeline, workers: Int = 2, prefetch: Int = 2, shard: SampleShard = .whole) {
        self.dataset = dataset
        self.pipeline = pipeline
        self.shard = shard
        let indices = Array(stride(from: shard.rank, to: dataset.count, by: shard.count))
        self.indices = indices
        // Work in groups of `workers` samples so each thread has one; groups come back in order.
        let group = max(1, workers)
        prefetcher = Prefetcher(depth: max(1, prefetch), name: "SwiftSeg.EvalLoader") { step in
            let start = step * group
            guard start < indices.count else { return nil }
            let end = min(start + group, indices.count)
            return parallelResults(count: end - start, workers: group) { i in
                try Self.prepare(dataset: dataset, pipeline: pipeline, index: indices[start + i])
            }
        }
    }

    /// The number of images this loader visits (the whole data set without a shard).
    public var count: Int { indices.count }

    public static func prepare(dataset: SegDataset, pipeline: TestPipeline, index: Int) throws -> EvalSample {
        let sample = try dataset.load(index)
        return EvalSample(index: index, files: dataset.samples[index], image: pipeline.apply(sample.image),
                          label: sample.label, originalImage: sample.image)
    }

    /// The next sample in data set order; nil after the last one. A sample that fails to load
    /// throws (naming its file) after the samples before it were returned, and so does every later call.
    public func next() throws -> EvalSample? {
        if let failure { throw failure }
        if pending.isEmpty {
            guard let group = try prefetcher.next() else { return nil }
            pending = group.reversed()
        }
        guard let result = pending.popLast() else { return nil }
        do {
            return try result.get()
        } catch {
            failure = error
            prefetcher.stop()
            throw error
        }
    }

    deinit {
        prefetcher.stop()
    }
}
