// Summary statistics of repeated timings.

import Foundation

public struct LatencyStats: Sendable, Codable, Equatable {
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    /// 90th percentile, linearly interpolated between order statistics (numpy's default).
    public var p90Ms: Double
    /// Every timed run, in order.
    public var samplesMs: [Double]

    public init(samplesMs: [Double]) {
        precondition(!samplesMs.isEmpty, "LatencyStats needs at least one sample")
        self.samplesMs = samplesMs
        let sorted = samplesMs.sorted()
        medianMs = Self.quantile(sorted, 0.5)
        minMs = sorted.first!
        maxMs = sorted.last!
        p90Ms = Self.quantile(sorted, 0.9)
    }

    /// How far the median of the second half of the timed calls lies from the first half's, relative to the
    /// smaller (0.1: 10% apart); nil under 4 calls. On a shared machine the speed moves in stretches of seconds
    /// (other tenants), which moves a whole process's median; a large drift inside one window says so.
    public var halvesDrift: Double? {
        guard samplesMs.count >= 4 else { return nil }
        let half = samplesMs.count / 2
        let first = Self.quantile(samplesMs[..<half].sorted(), 0.5), second = Self.quantile(samplesMs[half...].sorted(), 0.5)
        return abs(second - first) / min(first, second)
    }

    /// Quantile `q` of ascending `sorted` values, interpolating at position q·(n-1).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}

/// Monotonic wall clock (CLOCK_MONOTONIC), immune to clock adjustments.
enum MonotonicClock {
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// CPU time of the whole process (all threads), CLOCK_PROCESS_CPUTIME_ID.
enum ProcessCPUClock {
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
