import Foundation
import Testing
@testable import SegData

/// The distributed sampler: rank r of n takes every n-th sample of the one seeded stream
/// (mmengine's InfiniteSampler with `islice(indices, rank, None, world_size)`).
@Suite("ShardedSampler")
struct ShardedSamplerTests {
    /// The (epoch, index) pairs of `iterations` batches of one shard.
    private func samples(count: Int, seed: UInt64, batchSize: Int, shard: SampleShard, iterations: Int) -> [[(epoch: Int, index: Int)]] {
        var order = SampleOrder(count: count, seed: seed)
        return (0..<iterations).map { order.batch($0, size: batchSize, shard: shard) }
    }

    @Test(arguments: [(7, 2, 2), (6, 1, 3), (10, 3, 4), (5, 4, 2)])
    func shardsAreDisjointAndCoverEveryEpoch(count: Int, batchSize: Int, world: Int) throws {
        let iterations = 3 * count  // several epochs, batches spanning epoch ends
        var byEpoch: [Int: [(rank: Int, index: Int)]] = [:]
        for rank in 0..<world {
            let shard = try SampleShard(rank: rank, count: world)
            for batch in samples(count: count, seed: 9, batchSize: batchSize, shard: shard, iterations: iterations) {
                for s in batch { byEpoch[s.epoch, default: []].append((rank, s.index)) }
            }
        }
        let totalEpochs = iterations * batchSize * world / count  // epochs seen in full
        for epoch in 0..<totalEpochs {
            let seen = byEpoch[epoch] ?? []
            #expect(seen.map(\.index).sorted() == Array(0..<count), "epoch \(epoch): every sample exactly once over all ranks")
        }
    }

    @Test func batchesOfOneIterationFormTheSingleProcessGlobalBatch() throws {
        // 2 ranks x batch 3 at iteration k = 1 process x batch 6 at iteration k, as a set; so a run can
        // resume with another process count and the same global batch.
        let single = samples(count: 11, seed: 4, batchSize: 6, shard: .whole, iterations: 5)
        let four = try (0..<2).map { try samples(count: 11, seed: 4, batchSize: 3, shard: SampleShard(rank: $0, count: 2), iterations: 5) }
        let six = try (0..<3).map { try samples(count: 11, seed: 4, batchSize: 2, shard: SampleShard(rank: $0, count: 3), iterations: 5) }
        for k in 0..<5 {
            let global = single[k].map { "\($0.epoch):\($0.index)" }.sorted()
            #expect(four.flatMap { $0[k] }.map { "\($0.epoch):\($0.index)" }.sorted() == global)
            #expect(six.flatMap { $0[k] }.map { "\($0.epoch):\($0.index)" }.sorted() == global)
        }
    }

    @Test func orderIsAPureFunctionOfSeedIterationRankAndWorld() throws {
        let shard = try SampleShard(rank: 1, count: 3)
        let a = samples(count: 9, seed: 21, batchSize: 2, shard: shard, iterations: 8)
        // A fresh order asked only for iteration 6 (a resumed run) gives the same batch.
        var fresh = SampleOrder(count: 9, seed: 21)
        let resumed = fresh.batch(6, size: 2, shard: shard)
        #expect(resumed.map(\.index) == a[6].map(\.index) && resumed.map(\.epoch) == a[6].map(\.epoch))
        let again = samples(count: 9, seed: 21, batchSize: 2, shard: shard, iterations: 8)
        #expect(again.map { $0.map(\.index) } == a.map { $0.map(\.index) })
        let otherRank = samples(count: 9, seed: 21, batchSize: 2, shard: try SampleShard(rank: 0, count: 3), iterations: 8)
        #expect(otherRank.map { $0.map(\.index) } != a.map { $0.map(\.index) })
        let otherSeed = samples(count: 9, seed: 22, batchSize: 2, shard: shard, iterations: 8)
        #expect(otherSeed.map { $0.map(\.index) } != a.map { $0.map(\.index) })
        // One process: exactly the single-process stream.
        let whole = samples(count: 9, seed: 21, batchSize: 2, shard: .whole, iterations: 4).flatMap { $0 }.map(\.index)
        var plain = SampleOrder(count: 9, seed: 21)
        #expect(whole == (0..<8).map { plain.sample(at: $0).index })
    }

    @Test func shardedLoadersSplitTheGlobalBatch() throws {
        let dir = TempDir("sharded")
        defer { dir.cleanup() }
        try SynthDataset.generate(to: dir.url, train: 6, val: 5, size: (h: 32, w: 32), seed: 3)
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        let pipeline = TrainPipeline.ade20k(crop: 16)
        let single = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 8, workers: 1)
        let ranks = try (0..<2).map {
            try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 2, seed: 8, workers: 1, shard: SampleShard(rank: $0, count: 2))
        }
        for _ in 0..<3 {
            let global = try single.next()
            let parts = try ranks.map { try $0.next() }
            let pairs = parts.flatMap { zip($0.epochs, $0.indices).map { "\($0):\($1)" } }.sorted()
            #expect(pairs == zip(global.epochs, global.indices).map { "\($0):\($1)" }.sorted())
        }
        // Same augmentation for a sample wherever it lands: (seed, epoch, index) decide it.
        let resumed = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 2, seed: 8, workers: 1, startBatch: 1,
                                      shard: SampleShard(rank: 1, count: 2))
        let direct = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 2, seed: 8, workers: 1,
                                     shard: SampleShard(rank: 1, count: 2))
        _ = try direct.next()
        let (a, b) = (try resumed.next(), try direct.next())
        #expect(a.indices == b.indices && a.images == b.images && a.labels == b.labels)
    }

    @Test func evaluationShardsVisitEveryImageOnce() throws {
        let dir = TempDir("sharded-eval")
        defer { dir.cleanup() }
        try SynthDataset.generate(to: dir.url, train: 2, val: 5, size: (h: 32, w: 32), seed: 3)
        let ds = try SegDataset.synth(root: dir.url, split: .val)
        var seen: [Int] = []
        for rank in 0..<2 {
            let loader = EvalLoader(dataset: ds, pipeline: .ade20k(), workers: 2, shard: try SampleShard(rank: rank, count: 2))
            #expect(loader.count == (rank == 0 ? 3 : 2))
            while let sample = try loader.next() { seen.append(sample.index) }
        }
        #expect(seen == [0, 2, 4, 1, 3])
    }

    @Test func rejectsImpossibleShards() {
        #expect(throws: DatasetError.self) { _ = try SampleShard(rank: 2, count: 2) }
        #expect(throws: DatasetError.self) { _ = try SampleShard(rank: 0, count: 0) }
    }
}
