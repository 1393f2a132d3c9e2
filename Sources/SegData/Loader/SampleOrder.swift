/// The infinite training order: epoch after epoch, each a permutation of the data set drawn from
/// (seed, epoch), as mmengine's InfiniteSampler concatenates shuffled epochs (a batch may span two).
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

    /// The (epoch, data set index) at a global position of the stream.
    mutating func sample(at position: Int) -> (epoch: Int, index: Int) {
        let epoch = position / count
        if epoch != cachedEpoch {
            cachedPermutation = Self.permutation(count: count, seed: seed, epoch: epoch)
            cachedEpoch = epoch
        }
        return (epoch, cachedPermutation[position % count])
    }
}
