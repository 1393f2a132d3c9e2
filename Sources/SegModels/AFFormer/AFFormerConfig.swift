import Torch

// AFFormer ("Head-Free Lightweight Semantic Segmentation with Linear Transformer", AAAI 2023), built as the
// official code builds it (dongbo811/AFFormer @ c42ad25: tools/afformer.py, mmseg/models/decode_heads/aff_head.py).
// Parameter paths equal the official state_dict keys. Where code and paper differ, the code wins: see
// docs/afformer-notes.md.

/// Receives named intermediate outputs during `forwardAll` (parity checks, `swiftseg forward`); the names are
/// relative to the module that reports them. nil in ordinary forwards.
typealias Tap = (String, Tensor) -> Void

/// `tap` with `prefix.` put before every name.
func prefixed(_ tap: Tap?, _ prefix: String) -> Tap? {
    tap.map { tap in { name, t in tap("\(prefix).\(name)", t) } }
}

/// The numbers of an AFFormer variant (the `afformer_tiny/small/base` constructors of tools/afformer.py).
public struct AFFormerConfig: Sendable, Equatable {
    /// Channels of stages 0-3.
    public var embedDims: [Int]
    /// MHCA blocks of each stage's encoder. Stage 0 has no encoder: its entry is unused, as upstream.
    public var depths: [Int]
    /// Attention heads. The frequency filter's head splits (2/3/3 heads for 3x3/5x5/7x7) fix it at 8.
    public let heads = 8
    public var mlpRatio = 2
    /// CLS head: the `squeeze` ConvModule's width and GroupNorm groups.
    public var headChannels = 256
    public var headGroups = 32
    public var dropout = 0.1

    public static let tiny = AFFormerConfig(embedDims: [32, 64, 160, 216], depths: [1, 2, 4, 2])
    public static let small = AFFormerConfig(embedDims: [32, 64, 176, 216], depths: [1, 2, 4, 2])
    public static let base = AFFormerConfig(embedDims: [32, 96, 176, 216], depths: [1, 2, 6, 2])

    public static let variants: [(name: String, config: AFFormerConfig)] = [("tiny", .tiny), ("small", .small), ("base", .base)]

    /// Strides of each stage's two chained patch embeddings (`Patch_Embed_stage`): stage 1 halves the map before
    /// both branches; stages 2 and 3 keep the CNN branch at 1/8 and shrink only the transformer's input, by 2
    /// and 4 (to 1/16 and 1/32).
    static let patchStrides = [[1, 1], [2, 1], [1, 2], [1, 4]]
}
