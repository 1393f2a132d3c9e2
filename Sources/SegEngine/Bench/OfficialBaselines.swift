// Official PyTorch CPU timings on the 2-vCPU build machine (torch 2.11.0, 2 threads, float32 eager unless
// noted), copied from /work/shared/reference/cpu-baselines.md and cpu-anchors.md. Batch 1 inference at
// 512x512 with logits at the model's stride (no final resize); the training step is LRFormer-T, batch 2.

public struct OfficialBaseline: Sendable, Codable, Equatable {
    public enum Source: String, Sendable, Codable, CaseIterable {
        /// cpu-baselines.md: one eager process per model, median of 10 after 3 warm-ups.
        case cpuBaselines = "cpu-baselines.md"
        /// cpu-anchors.md: pooled medians of several interleaved processes (eager rows only here).
        case cpuAnchors = "cpu-anchors.md"
    }

    public var model: String
    public var height: Int
    public var width: Int
    public var batch: Int
    public var train: Bool
    public var precision: BenchPrecision
    /// How PyTorch ran it ("eager fp32", "eager, autocast bf16", ...).
    public var configuration: String
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    /// Peak resident memory of the whole process (MB as the source prints them: MiB from ru_maxrss / VmHWM).
    public var peakRSSMiB: Double?
    /// The part of the peak above the process's post-import baseline (model build + run).
    public var peakIncreaseMiB: Double?
    public var source: Source
}

extension OfficialBaseline {
    /// The entry to compare a run with: same model, size, batch, mode and precision, from `source`.
    public static func match(model: String, height: Int, width: Int, batch: Int, train: Bool, precision: BenchPrecision,
                             source: Source = .cpuBaselines) -> OfficialBaseline? {
        table.first {
            $0.source == source && $0.model == model && $0.height == height && $0.width == width && $0.batch == batch
                && $0.train == train && $0.precision == precision
        }
    }

    private static func infer(_ model: String, _ precision: BenchPrecision, _ configuration: String, _ median: Double,
                              _ min: Double, _ max: Double, peak: Double, baseline: Double?, increase: Double? = nil,
                              _ source: Source) -> OfficialBaseline {
        OfficialBaseline(model: model, height: 512, width: 512, batch: 1, train: false, precision: precision,
                         configuration: configuration, medianMs: median, minMs: min, maxMs: max, peakRSSMiB: peak,
                         peakIncreaseMiB: increase ?? baseline.map { peak - $0 }, source: source)
    }

    public static let table: [OfficialBaseline] = [
        // cpu-baselines.md: "peak RSS (build + run)" with the increase over the ~590 MB post-import process.
        infer("lrformer-t", .float32, "eager fp32", 381, 345, 493, peak: 926, baseline: nil, increase: 337, .cpuBaselines),
        infer("lrformer-s", .float32, "eager fp32", 968, 920, 1024, peak: 1056, baseline: nil, increase: 467, .cpuBaselines),
        infer("segformer-b0", .float32, "eager fp32", 357, 307, 511, peak: 1037, baseline: nil, increase: 447, .cpuBaselines),
        infer("segformer-b2", .float32, "eager fp32", 2142, 1827, 3331, peak: 1512, baseline: nil, increase: 922, .cpuBaselines),
        OfficialBaseline(model: "lrformer-t", height: 512, width: 512, batch: 2, train: true, precision: .float32,
                         configuration: "eager fp32, AdamW step", medianMs: 4270, minMs: 4060, maxMs: 5170, peakRSSMiB: 3866,
                         // Only the total is given; the source puts the post-import process at ~590 MB (926 - 337 = 589).
                         peakIncreaseMiB: 3866 - 590, source: .cpuBaselines),
        // cpu-anchors.md: VmHWM reset after loading, post-import baseline in brackets.
        infer("lrformer-t", .float32, "eager fp32 (NCHW)", 336, 281, 608, peak: 1007, baseline: 484, .cpuAnchors),
        infer("lrformer-t", .bfloat16, "eager, autocast bf16", 254, 205, 507, peak: 831, baseline: 485, .cpuAnchors),
        infer("lrformer-s", .float32, "eager fp32 (NCHW)", 713, 613, 1117, peak: 1193, baseline: 485, .cpuAnchors),
        infer("lrformer-s", .bfloat16, "eager, autocast bf16", 501, 407, 546, peak: 1003, baseline: 485, .cpuAnchors),
        infer("segformer-b0", .float32, "eager fp32 (NCHW)", 221, 185, 356, peak: 1054, baseline: 485, .cpuAnchors),
        infer("segformer-b0", .bfloat16, "eager, autocast bf16", 140, 132, 335, peak: 913, baseline: 485, .cpuAnchors),
        infer("segformer-b2", .float32, "eager fp32 (NCHW)", 1794, 1345, 3092, peak: 1581, baseline: 485, .cpuAnchors),
        infer("segformer-b2", .bfloat16, "eager, autocast bf16", 623, 579, 710, peak: 1367, baseline: 485, .cpuAnchors),
    ]
}
