/// SplitMix64 (Steele, Lea & Flood, 2014): a tiny, fast generator with good statistical quality.
///
/// SwiftSeg owns its generator (instead of `SystemRandomNumberGenerator`) so that every random draw of
/// an augmentation or of the synthetic data set is reproducible from a seed, on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 output function (a strong 64-bit bit mixer).
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for one sample of one epoch. Hashing the triple (instead of adding it to the seed)
    /// keeps streams for neighbouring indices or epochs unrelated, and makes a sample's augmentation
    /// independent of which worker thread happens to process it.
    public static func forSample(seed: UInt64, epoch: Int, index: Int) -> SplitMix64 {
        var h = mix(seed ^ 0x5EED_5EED_5EED_5EED)
        h = mix(h ^ UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03)
        h = mix(h ^ UInt64(truncatingIfNeeded: index) &* 0x8CB9_2BA7_2F3D_8DD7)
        return SplitMix64(seed: h)
    }
}
