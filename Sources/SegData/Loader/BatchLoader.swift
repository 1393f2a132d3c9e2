import Foundation

/// Endless shuffled training batches: samples are decoded and augmented on `workers` threads and
/// the next `prefetch` batches are prepared while the caller trains on the current one.
///
/// Deterministic in `seed`: the order is a per-epoch permutation of (seed, epoch), and each sample's
/// augmentation draws from a generator seeded by (seed, epoch, index), so the batches are the same
/// for any worker count. A decoding error (naming the file) is thrown from `next()`.
/// `startBatch` skips ahead without decoding anything, so a resumed run sees the batches it would
/// have seen (batch k of a fresh loader = batch 0 of a loader started at k).
///
/// In a multi-process run each process passes its `shard` and its own batch size (per process, as
/// mmseg's 8xb2 = 8 processes of 2): the processes' batches of one iteration are disjoint parts of
/// one global batch (see `SampleOrder`).
public final class BatchLoader {
    public let dataset: SegDataset
    public let pipeline: TrainPipeline
    public let batchSize: Int
    public let seed: UInt64
    public let workers: Int
    public let shard: SampleShard
    private let prefetcher: Prefetcher<Batch>

    public init(dataset: SegDataset, pipeline: TrainPipeline, batchSize: Int, seed: UInt64, workers: Int, prefetch: Int = 2,
                startBatch: Int = 0, shard: SampleShard = .whole) throws {
        guard batchSize > 0 else {
            throw DatasetError(.indexOutOfRange, path: dataset.root.path, reason: "batch size must be positive, got \(batchSize)")
        }
        guard startBatch >= 0 else {
            throw DatasetError(.indexOutOfRange, path: dataset.root.path, reason: "start batch must not be negative, got \(startBatch)")
        }
        guard dataset.count > 0 else {
            throw DatasetError(.emptySplit, path: dataset.root.path, reason: "no samples in \(dataset.name) \(dataset.split.rawValue)")
        }
        self.dataset = dataset
        self.pipeline = pipeline
        self.batchSize = batchSize
        self.seed = seed
        self.workers = max(1, workers)
        self.shard = shard
        let workerCount = self.workers
        var order = SampleOrder(count: dataset.count, seed: seed)
        prefetcher = Prefetcher(depth: max(1, prefetch), name: "SwiftSeg.BatchLoader") { step in
            let picks = order.batch(startBatch + step, size: batchSize, shard: shard)
            let samples = try parallelMap(count: batchSize, workers: workerCount) { i in
                try Self.prepare(dataset: dataset, pipeline: pipeline, seed: seed, epoch: picks[i].epoch, index: picks[i].index)
            }
            return Batch(samples: samples, indices: picks.map(\.index), epochs: picks.map(\.epoch))
        }
    }

    /// One augmented sample, exactly as it appears in a batch.
    public static func prepare(dataset: SegDataset, pipeline: TrainPipeline, seed: UInt64, epoch: Int, index: Int) throws -> (image: NormalizedImage, label: LabelMap) {
        var rng = SplitMix64.forSample(seed: seed, epoch: epoch, index: index)
        return pipeline.apply(try dataset.load(index), using: &rng)
    }

    /// The next batch (waits while it is being prepared).
    public func next() throws -> Batch {
        guard let batch = try prefetcher.next() else {
            throw DatasetError(.indexOutOfRange, path: dataset.root.path, reason: "the batch loader was stopped")
        }
        return batch
    }

    /// Stops the background work early (it also stops when the loader is released).
    public func stop() {
        prefetcher.stop()
    }

    deinit {
        prefetcher.stop()
    }
}
