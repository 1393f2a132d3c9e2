/// This process's part of a multi-process run: rank `rank` of `count` (one shard per process).
public struct SampleShard: Equatable, Sendable, CustomStringConvertible {
    public let rank: Int
    public let count: Int

    /// The whole stream: a single-process run.
    public static let whole = SampleShard(uncheckedRank: 0, count: 1)

    public init(rank: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(rank) else {
            throw DatasetError(.indexOutOfRange, path: "sampler", reason: "rank \(rank) of \(count) processes does not exist")
        }
        self.init(uncheckedRank: rank, count: count)
    }

    private init(uncheckedRank rank: Int, count: Int) {
        self.rank = rank
        self.count = count
    }

    public var description: String { "shard \(rank) of \(count)" }
}

/// The infinite training order: epoch after epoch, each a permutation of the data set drawn from
/// (seed, epoch), as mmengine's InfiniteSampler concatenates shuffled epochs (a batch may span two).
///
/// With several processes, rank r of n takes every n-th sample of that one stream starting at r
/// (InfiniteSampler's `islice(indices, rank, None, world_size)`), and its batches are consecutive
/// runs of its samples. So the n batches of one iteration are together a contiguous block of
/// n * batchSize samples of the stream: disjoint, covering each epoch, and a pure function of
/// (seed, iteration, rank, n). A run resumed with another process count but the same global batch
/// (n * batchSize) continues the same stream at the same place.
struct SampleOrder {
    let count: Int
    let seed: UInt64
    private var cachedEpoch = -1
    private var cachedPermutation: [Int] = []

    init(count: Int, seed: UInt64) {
        precondition(count > 0, "SampleOrder: empty data set")
        self.count = count
        self.seed = seed
    }

    /// Fisher-Yates shuffle of 0..<count for `epoch`.
    static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SplitMix64.forSample(seed: seed ^ 0x5348_5546_464C_4531, epoch: epoch, index: -1)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.integer(below: i + 1))
        }
        return order
    }

    /// The stream positions of `shard`'s batch `batch`.
    static func positions(batch: Int, batchSize: Int, shard: SampleShard) -> [Int] {
        (0..<batchSize).map { (batch * batchSize + $0) * shard.count + shard.rank }
    }

    /// The (epoch, data set index) at a global position of the stream.
    mutating func sample(at position: Int) -> (epoch: Int, index: Int) {
        let epoch = position / count
        if epoch != cachedEpoch {
            cachedPermutation = Self.permutation(count: count, seed: seed, epoch: epoch)
            cachedEpoch = epoch
        }
        return (epoch, cachedPermutation[position % count])
    }

    /// `shard`'s batch `batch`.
    mutating func batch(_ batch: Int, size batchSize: Int, shard: SampleShard) -> [(epoch: Int, index: Int)] {
        Self.positions(batch: batch, batchSize: batchSize, shard: shard).map { sample(at: $0) }
    }
}
