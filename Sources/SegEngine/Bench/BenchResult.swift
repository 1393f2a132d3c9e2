// One measured (model, size) cell of a benchmark.

import Foundation
import SegModels

public struct BenchResult: Sendable, Codable, Equatable {
    public var model: String
    public var height: Int
    public var width: Int
    public var batch: Int
    public var device: String
    public var precision: BenchPrecision
    public var train: Bool
    /// What one timed run is: "inference", "train step (AdamW)", ...
    public var mode: String
    /// libtorch intra-op threads during the run.
    public var threads: Int
    public var parameters: Int
    public var warmup: Int
    public var latency: LatencyStats
    /// Images per second at the median latency.
    public var imagesPerSecond: Double
    /// Peak memory of the run in bytes (model build included on the CPU); nil where unknown.
    public var peakMemoryBytes: Int?
    public var memoryMethod: MemoryProbe.Method
    /// The official figure this run is compared with, when there is one.
    public var official: OfficialTiming?
    /// Median process CPU time per call (all threads), less sensitive than wall time to other jobs on a shared machine.
    public var cpuMedianMs: Double?
    /// Where the time went (`profileRuns` > 0): a Markdown table of the operators with the largest self time per call.
    public var profile: String?

    public var peakMemoryMiB: Double? { peakMemoryBytes.map { Double($0) / 1_048_576 } }

    /// Our median / the official median (below 1: we are faster).
    public var latencyRatio: Double? { official.map { latency.medianMs / $0.medianMs } }

    /// Our peak increase / the official peak increase, where both exist.
    public var memoryRatio: Double? {
        guard let ours = peakMemoryMiB, let theirs = official?.peakIncreaseMiB, theirs > 0 else { return nil }
        return ours / theirs
    }
}
