/// Random draws used by the transforms. Written out here (rather than using `Double.random(in:using:)`)
/// so the mapping from generator output to values is fixed by this code, not by the standard library version.
extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 random bits.
    mutating func uniform01() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform01()
    }

    /// Uniform integer in [0, count), by multiply-high (bias below 2^-40 for the ranges used here).
    mutating func integer(below count: Int) -> Int {
        precondition(count > 0, "integer(below:) needs a positive count")
        return Int(next().multipliedFullWidth(by: UInt64(count)).high)
    }

    /// Uniform integer in [low, high), like numpy's `randint(low, high)`.
    mutating func integer(from low: Int, below high: Int) -> Int {
        low + integer(below: high - low)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        uniform01() < p
    }
}
