import Torch

// SegViT ("SegViT: Semantic Segmentation with Plain Vision Transformers", NeurIPS 2022; zbwxp/SegVit @ 763137e):
// a plain ViT (mmseg 0.24 VisionTransformer) and the Attention-to-Mask (ATM) decoder; the Shrunk variant adds
// query-based down-sampling (QD) inside the ViT and query-based up-sampling (QU, the TPN head) before the ATM.

/// The numbers of one SegViT model (the `backbone` and `decode_head` entries of its mmseg config).
public struct SegViTConfig: Sendable, Equatable {
    public enum Head: String, Sendable {
        /// `ATMHead`: one 3-layer ATM decoder per backbone output, deepest first; masks accumulated over stages.
        case atm
        /// `TPNATMHead`: QU queries decoded against the outputs, then `ATMSingleHead` (one mask per decoder layer).
        case tpnATM
    }

    /// `img_size` of backbone and head: the position embedding's grid is imageSize / patchSize, and the head's
    /// masks (and the Shrunk head's QU query count) are tied to it, whatever the input size.
    public var imageSize: Int
    public var patchSize: Int = 16
    /// ViT width D, depth and heads.
    public var embedDims: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Int = 4
    /// Layers whose outputs feed the head (0-based, ascending).
    public var outIndices: [Int]
    /// Stochastic depth, rising linearly over the layers (mmseg applies it to the FFN residual only).
    public var dropPathRate: Double
    /// The QD layer of the Shrunk ViT (`shrink_idx`): its queries are the tokens at even rows and columns; nil for a plain ViT.
    public var shrinkIndex: Int?
    public var head: Head
    /// Head width E (`embed_dims`, D/2 in every config) and heads (`num_heads`, the ViT's).
    public var decoderDims: Int
    public var decoderHeads: Int
    /// Decoder layers per ATM / TPN decoder (`num_layers`).
    public var decoderLayers: Int = 3
    /// QU: (imageSize / shrinkRatio)² learned queries (`shrink_ratio`).
    public var shrinkRatio: Int = 16

    /// Side of the position embedding's token grid.
    public var grid: Int { imageSize / patchSize }

    /// Programmer errors only: the variant table below is fixed.
    func check() {
        precondition(imageSize % patchSize == 0 && embedDims % numHeads == 0 && decoderDims % decoderHeads == 0,
                     "SegViT config: img_size must divide by the patch, widths by the heads")
        precondition(outIndices.allSatisfy { (0..<depth).contains($0) } && outIndices == outIndices.sorted(),
                     "SegViT config: out_indices \(outIndices) must be ascending layers below \(depth)")
        precondition(head == .atm ? shrinkIndex == nil : (shrinkIndex != nil && outIndices.count == 2),
                     "SegViT config: the TPN head pairs with the Shrunk ViT and two outputs")
    }

    // configs/_base_/models/seg_vit-b16.py: ViT-B/16 at 512, ATM over layers 5, 7, 11.
    public static let vitB = SegViTConfig(imageSize: 512, embedDims: 768, depth: 12, numHeads: 12, outIndices: [5, 7, 11],
                                          dropPathRate: 0.1, head: .atm, decoderDims: 384, decoderHeads: 12)
    // configs/segvit/segvit_vit-l_jax_640x640_160k_ade20k.py: ViT-L/16 at 640, ATM over layers 7, 15, 23.
    public static let vitL = SegViTConfig(imageSize: 640, embedDims: 1024, depth: 24, numHeads: 16, outIndices: [7, 15, 23],
                                          dropPathRate: 0.3, head: .atm, decoderDims: 512, decoderHeads: 16)
    // configs/segvit/shrink/segvit_vit-l_jax_shrink8_tpnatm.py: QD at layer 8, TPN head over layers 7 and 23.
    public static let vitLShrunk = SegViTConfig(imageSize: 640, embedDims: 1024, depth: 24, numHeads: 16, outIndices: [7, 23],
                                                dropPathRate: 0.3, shrinkIndex: 8, head: .tpnATM, decoderDims: 512, decoderHeads: 16)
    // The COCO-Stuff-10K configs (..._512x512_80k_cocostuff10k.py, shrink/..._tpnatm_coco.py): the same at img_size 512.
    public static let vitL512 = with(vitL) { $0.imageSize = 512 }
    public static let vitLShrunk512 = with(vitLShrunk) { $0.imageSize = 512 }

    // The reduced configurations of the two parity fixtures (shared/reference/segvit/fixture_*_128).
    public static let tiny = SegViTConfig(imageSize: 128, embedDims: 192, depth: 4, numHeads: 3, outIndices: [1, 2, 3],
                                          dropPathRate: 0.1, head: .atm, decoderDims: 96, decoderHeads: 3)
    public static let tinyShrunk = SegViTConfig(imageSize: 128, embedDims: 96, depth: 4, numHeads: 3, outIndices: [1, 3],
                                                dropPathRate: 0.1, shrinkIndex: 2, head: .tpnATM, decoderDims: 48, decoderHeads: 3)

    static func with(_ base: SegViTConfig, _ change: (inout SegViTConfig) -> Void) -> SegViTConfig {
        var c = base
        change(&c)
        return c
    }
}
