import Torch
import TorchIO

// What a family's papers and official code publish about its models, kept with the family: FLOPs measured with
// mmengine's FlopAnalyzer (or fvcore) on the official code, and official PyTorch CPU timings. Batch 1, eval mode,
// logits at the model's stride unless a row says otherwise. "G" = 1e9.

public struct FlopReference: Sendable, Codable, Equatable {
    /// Model name (a backbone variant for encoder-only figures).
    public var model: String
    public var height: Int
    public var width: Int
    public var numClasses: Int?
    public var totalG: Double
    public var paramsM: Double?
    public var backboneG: Double?
    public var headG: Double?
    /// Table 12's "Att.": the encoder's q·kᵀ + attn·v (+ LRSA's upsampling).
    public var attentionG: Double?
    /// mmengine `by_operator()` values (G), where flops.md lists them.
    public var operatorsG: [String: Double]?
    /// Dense kxk / 1x1 / depthwise conv split (G), where listed.
    public var convSplitG: [String: Double]?
    /// The paper's figure, for information.
    public var paperG: Double?

    /// Our value's difference from the reference, in percent.
    public func percentDifference(_ flops: Int) -> Double { (Double(flops) / 1e9 / totalG - 1) * 100 }
}

/// An official PyTorch CPU timing of a model (torch 2.11.0, 2 threads on the 2-vCPU build machine).
public struct OfficialTiming: Sendable, Codable, Equatable {
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
    public var dtype: DType
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


extension ModelRegistry {
    /// The published FLOPs of `model` at a size (any class count when `numClasses` is nil).
    public static func flopReference(model: String, height: Int, width: Int, numClasses: Int?) -> FlopReference? {
        families.lazy.flatMap(\.flopReferences).first {
            $0.model == model && $0.height == height && $0.width == width && (numClasses == nil || $0.numClasses == numClasses)
        }
    }

    /// The official timing to compare a run with: same model, size, batch, mode and dtype, from `source`.
    public static func officialTiming(model: String, height: Int, width: Int, batch: Int, train: Bool, dtype: DType,
                                      source: OfficialTiming.Source = .cpuBaselines) -> OfficialTiming? {
        families.lazy.flatMap(\.officialTimings).first {
            $0.source == source && $0.model == model && $0.height == height && $0.width == width && $0.batch == batch
                && $0.train == train && $0.dtype == dtype
        }
    }
}

extension FlopReference {
    /// flops.md's per-operator columns (G), under the counter's operator names.
    static func operators(_ conv: Double, _ linear: Double, _ matmul: Double, _ ln: Double, _ bn: Double, _ up: Double,
                          _ pool: Double) -> [String: Double] {
        ["conv": conv, "linear": linear, "matmul": matmul, "layer_norm": ln, "batch_norm": bn,
         "upsample_bilinear2d": up, "adaptive_avg_pool2d": pool]
    }

    /// Dense kxk / 1x1 / depth-wise conv FLOPs (the counter's `ConvKind` names).
    static func convSplit(_ dense: Double, _ pointwise: Double, _ depthwise: Double) -> [String: Double] {
        ["dense kxk": dense, "1x1": pointwise, "depthwise": depthwise]
    }
}

extension OfficialTiming {
    /// A batch-1 inference row at 512x512; the peak increase is given, or the peak less the post-import baseline.
    static func inference(_ model: String, _ dtype: DType, _ configuration: String, _ median: Double,
                          _ min: Double, _ max: Double, peak: Double, baseline: Double?, increase: Double? = nil,
                          _ source: OfficialTiming.Source) -> OfficialTiming {
        OfficialTiming(model: model, height: 512, width: 512, batch: 1, train: false, dtype: dtype,
                       configuration: configuration, medianMs: median, minMs: min, maxMs: max, peakRSSMiB: peak,
                       peakIncreaseMiB: increase ?? baseline.map { peak - $0 }, source: source)
    }
}
