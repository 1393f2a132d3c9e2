// Plain against optimized inference (`Module.optimizeForInference`) in one process, calls interleaved, so that
// the load of a shared machine hits both alike: the A/B figure behind docs/benchmarks.md.

import Foundation
import Torch
import SegModels

public struct InferenceComparison: Sendable, Codable {
    public var model: String
    public var height: Int
    public var width: Int
    public var plain: LatencyStats
    public var optimized: LatencyStats
    /// Process CPU time per call (all threads): on a loaded machine a steadier measure of the work than wall time.
    public var plainCPU: LatencyStats
    public var optimizedCPU: LatencyStats
    /// Median of the per-round ratios optimized / plain (each round times both, in alternating order).
    public var pairedRatio: Double
    /// max |optimized - plain| / max |plain| over the logits.
    public var relativeDifference: Double
    public var plainProfile: String?
    public var optimizedProfile: String?

    public var ratio: Double { optimized.medianMs / plain.medianMs }

    public static func markdown(_ rows: [InferenceComparison]) -> String {
        var table = MarkdownTable(headers: ["model", "input", "plain median ms", "optimized median ms", "ratio of medians",
                                            "median paired ratio", "CPU ms plain / optimized", "CPU ratio", "logits rel. diff"],
                                  alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .right])
        for r in rows {
            table.addRow([r.model, "\(r.height)x\(r.width)", BenchReport.ms(r.plain.medianMs), BenchReport.ms(r.optimized.medianMs),
                          String(format: "%.2fx", r.ratio), String(format: "%.2fx", r.pairedRatio),
                          "\(BenchReport.ms(r.plainCPU.medianMs)) / \(BenchReport.ms(r.optimizedCPU.medianMs))",
                          String(format: "%.2fx", r.optimizedCPU.medianMs / r.plainCPU.medianMs),
                          String(format: "%.1e", r.relativeDifference)])
        }
        return table.render()
    }
}

extension Benchmark {
    /// For each model and size: two copies of the model with the same weights, one plain and one optimized, timed
    /// alternately (plain first in even rounds, optimized first in odd ones) after `warmup` calls of each.
    public static func compareInference(_ options: BenchOptions, progress: ((String) -> Void)? = nil) throws -> [InferenceComparison] {
        try options.validate()
        guard options.device == .cpu, options.precision == .fp32, !options.train else {
            throw BenchmarkError("the plain/optimized comparison runs float32 inference on the CPU")
        }
        for name in options.models { _ = try ModelRegistry.variant(name) }
        var rows: [InferenceComparison] = []
        for name in options.models {
            for size in options.sizes {
                progress?("\(name) \(size): plain vs optimized, \(options.repeats) interleaved rounds")
                let plain = try ModelRegistry.segmentation(name, numClasses: options.numClasses)
                let optimized = try ModelRegistry.segmentation(name, numClasses: options.numClasses)
                try optimized.load(stateDict: Dictionary(uniqueKeysWithValues: plain.stateDict()), strict: true)
                plain.eval()
                guard optimized.optimizeForInference() else { throw BenchmarkError("\(name) cannot be optimized on this machine") }
                let x = Tensor.randn([options.batch, 3, size.height, size.width])
                func call(_ m: any SegmentationModel) -> Tensor { Torch.inferenceMode { m.logits(x) } }
                var a: [Double] = [], b: [Double] = [], ca: [Double] = [], cb: [Double] = []
                func time(_ m: any SegmentationModel, _ wall: inout [Double], _ cpu: inout [Double]) {
                    let start = MonotonicClock.nanoseconds(), cpuStart = ProcessCPUClock.nanoseconds()
                    _ = call(m)
                    wall.append(Double(MonotonicClock.nanoseconds() - start) / 1e6)
                    cpu.append(Double(ProcessCPUClock.nanoseconds() - cpuStart) / 1e6)
                }
                for _ in 0..<options.warmup { time(plain, &a, &ca); time(optimized, &b, &cb) }
                (a, b, ca, cb) = ([], [], [], [])
                for round in 0..<options.repeats {
                    if round % 2 == 0 {
                        time(plain, &a, &ca); time(optimized, &b, &cb)
                    } else {
                        time(optimized, &b, &cb); time(plain, &a, &ca)
                    }
                }
                let diff = Torch.inferenceMode { () -> Double in
                    let p = call(plain).to(.float64), o = call(optimized).to(.float64)
                    return (o - p).abs().max().item() / max(p.abs().max().item(), 1e-12)
                }
                var profiles: (String?, String?) = (nil, nil)
                if options.profileRuns > 0 {
                    let (_, pp) = try OpProfiler.record(shapes: options.profileShapes) { for _ in 0..<options.profileRuns { _ = call(plain) } }
                    let (_, po) = try OpProfiler.record(shapes: options.profileShapes) { for _ in 0..<options.profileRuns { _ = call(optimized) } }
                    profiles = (pp.table(top: options.profileRows, runs: options.profileRuns), po.table(top: options.profileRows, runs: options.profileRuns))
                }
                rows.append(InferenceComparison(model: name, height: size.height, width: size.width, plain: LatencyStats(samplesMs: a),
                                                optimized: LatencyStats(samplesMs: b),
                                                plainCPU: LatencyStats(samplesMs: ca), optimizedCPU: LatencyStats(samplesMs: cb),
                                                pairedRatio: LatencyStats(samplesMs: zip(b, a).map { $0 / $1 }).medianMs,
                                                relativeDifference: diff, plainProfile: profiles.0, optimizedProfile: profiles.1))
            }
        }
        return rows
    }
}
