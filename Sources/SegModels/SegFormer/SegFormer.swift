import Foundation
import Torch

// SegFormer ("SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers", NeurIPS
// 2021): the Mix Transformer (MiT) encoder and the All-MLP decode head, built as Hugging Face `transformers`
// builds them (models/segformer/modeling_segformer.py), so parameter paths equal its state_dict keys and a
// Hub checkpoint folder loads directly (HuggingFaceConfig.swift). Where HF and the original NVlabs/mmseg code
// differ, HF wins: every LayerNorm uses PyTorch's eps 1e-5 (the config's `layer_norm_eps` is not used),
// and the head's dropout is element-wise `nn.Dropout`, not `Dropout2d`.

// MARK: - Config

public struct SegFormerConfig: Sendable, Equatable {
    /// Channels per stage (`hidden_sizes`).
    public var hiddenSizes: [Int]
    /// Blocks per stage (`depths`).
    public var depths: [Int]
    /// Attention heads per stage (`num_attention_heads`).
    public var numAttentionHeads: [Int]
    /// Spatial-reduction ratio R per stage (`sr_ratios`): keys and values come from the map shrunk by an
    /// R x R stride-R conv, so attention costs N·N/R² instead of N².
    public var srRatios: [Int]
    /// Kernel and stride of each stage's overlapping patch embedding (`patch_sizes`, `strides`).
    public var patchSizes: [Int]
    public var strides: [Int]
    /// Mix-FFN expansion per stage (`mlp_ratios`).
    public var mlpRatios: [Int]
    /// Width of the All-MLP head (`decoder_hidden_size`).
    public var decoderHiddenSize: Int
    /// Stochastic depth, rising linearly to this rate over all blocks (`drop_path_rate`).
    public var dropPathRate: Double
    /// Dropout before the classifier (`classifier_dropout_prob`).
    public var classifierDropout: Double
    /// Input channels (`num_channels`).
    public var numChannels: Int

    public init(hiddenSizes: [Int], depths: [Int], numAttentionHeads: [Int] = [1, 2, 5, 8], srRatios: [Int] = [8, 4, 2, 1],
                patchSizes: [Int] = [7, 3, 3, 3], strides: [Int] = [4, 2, 2, 2], mlpRatios: [Int] = [4, 4, 4, 4],
                decoderHiddenSize: Int = 256, dropPathRate: Double = 0.1, classifierDropout: Double = 0.1, numChannels: Int = 3) {
        self.hiddenSizes = hiddenSizes
        self.depths = depths
        self.numAttentionHeads = numAttentionHeads
        self.srRatios = srRatios
        self.patchSizes = patchSizes
        self.strides = strides
        self.mlpRatios = mlpRatios
        self.decoderHiddenSize = decoderHiddenSize
        self.dropPathRate = dropPathRate
        self.classifierDropout = classifierDropout
        self.numChannels = numChannels
    }

    // MiT-B0..B5 (timm's pvt_v2 table, mmseg's mit_b*): only widths, depths and head width differ.
    public static let b0 = SegFormerConfig(hiddenSizes: [32, 64, 160, 256], depths: [2, 2, 2, 2], decoderHiddenSize: 256)
    public static let b1 = SegFormerConfig(hiddenSizes: [64, 128, 320, 512], depths: [2, 2, 2, 2], decoderHiddenSize: 256)
    public static let b2 = SegFormerConfig(hiddenSizes: [64, 128, 320, 512], depths: [3, 4, 6, 3], decoderHiddenSize: 768)
    public static let b3 = SegFormerConfig(hiddenSizes: [64, 128, 320, 512], depths: [3, 4, 18, 3], decoderHiddenSize: 768)
    public static let b4 = SegFormerConfig(hiddenSizes: [64, 128, 320, 512], depths: [3, 8, 27, 3], decoderHiddenSize: 768)
    public static let b5 = SegFormerConfig(hiddenSizes: [64, 128, 320, 512], depths: [3, 6, 40, 3], decoderHiddenSize: 768)

    public static let variants: [(name: String, config: SegFormerConfig)] = [
        ("b0", .b0), ("b1", .b1), ("b2", .b2), ("b3", .b3), ("b4", .b4), ("b5", .b5),
    ]

    public var stageCount: Int { hiddenSizes.count }

    /// The variant ("b0" ... "b5") with this architecture, whatever the regularisation rates; nil for others.
    public var variantName: String? {
        func shape(_ c: SegFormerConfig) -> [[Int]] {
            [c.hiddenSizes, c.depths, c.numAttentionHeads, c.srRatios, c.patchSizes, c.strides, c.mlpRatios,
             [c.decoderHiddenSize, c.numChannels]]
        }
        return Self.variants.first { shape($0.config) == shape(self) }?.name
    }

    /// Every stage's grid side for an input side `n`: the patch conv's output, floor((n + 2·(k/2) - k) / s) + 1.
    public func gridSizes(input n: Int) -> [Int] {
        var side = n
        return zip(patchSizes, strides).map { k, s in
            side = (side + 2 * (k / 2) - k) / s + 1
            return side
        }
    }

    /// The smallest input side the encoder runs on: every spatial-reduction conv needs at least R x R cells.
    public var minimumInputSize: Int {
        (1...).first { n in zip(gridSizes(input: n), srRatios).allSatisfy { $0 >= $1 && $0 >= 1 } }!
    }

    /// Checks what the layers need (equal stage counts, positive sizes, widths divisible by heads).
    public func validate() throws {
        func fail(_ m: String) -> ModelError { ModelError("segformer config: \(m)") }
        let n = hiddenSizes.count
        guard n > 0 else { throw fail("hidden_sizes is empty") }
        let lists: [(String, [Int])] = [("depths", depths), ("num_attention_heads", numAttentionHeads), ("sr_ratios", srRatios),
                                        ("patch_sizes", patchSizes), ("strides", strides), ("mlp_ratios", mlpRatios)]
        for (key, list) in lists where list.count != n {
            throw fail("\(key) has \(list.count) entries but hidden_sizes has \(n)")
        }
        for (key, list) in [("hidden_sizes", hiddenSizes)] + lists where list.contains(where: { $0 < 1 }) {
            throw fail("\(key) must be positive, got \(list)")
        }
        for s in 0..<n where hiddenSizes[s] % numAttentionHeads[s] != 0 {
            throw fail("stage \(s + 1): hidden size \(hiddenSizes[s]) is not a multiple of \(numAttentionHeads[s]) heads")
        }
        guard decoderHiddenSize > 0, numChannels > 0 else {
            throw fail("decoder_hidden_size and num_channels must be positive, got \(decoderHiddenSize), \(numChannels)")
        }
        guard (0..<1).contains(dropPathRate), (0..<1).contains(classifierDropout) else {
            throw fail("drop_path_rate and classifier_dropout_prob must be in [0, 1), got \(dropPathRate), \(classifierDropout)")
        }
    }
}

// MARK: - Blocks

/// A parameterless level in parameter names: Hugging Face nests some layers one module deeper than the
/// computation needs (`attention.self.query`, `attention.output.dense`, `mlp.dwconv.dwconv`, `linear_c.0.proj`,
/// `segformer.encoder`).
final class NameScope: Module {
    init(_ children: (String, Module)...) {
        super.init()
        for (name, module) in children { register(modules: (name, module)) }
    }
}

/// Efficient self-attention (`attention`): queries from every token; keys and values from the map shrunk by
/// a stride-R conv (`sr`) + LayerNorm when R > 1; softmax(q kᵀ / √d) v; output projection (`output.dense`).
final class EfficientSelfAttention: Module {
    let heads: Int
    let query: Linear
    let key: Linear
    let value: Linear
    let sr: Conv2d?
    let srNorm: LayerNorm?
    let dense: Linear

    init(dim: Int, heads: Int, srRatio: Int) {
        self.heads = heads
        query = Linear(dim, dim)
        key = Linear(dim, dim)
        value = Linear(dim, dim)
        sr = srRatio > 1 ? Conv2d(dim, dim, kernel: srRatio, stride: srRatio) : nil
        srNorm = srRatio > 1 ? LayerNorm(dim) : nil
        dense = Linear(dim, dim)
        super.init()
        let attention = NameScope(("query", query), ("key", key), ("value", value))
        attention.register(modules: ("sr", sr), ("layer_norm", srNorm))
        register(modules: ("self", attention), ("output", NameScope(("dense", dense))))
    }

    /// Tokens B,N,C of an H x W map -> residual + attention output (B,N,C); the addition rides in the output
    /// projection when optimized for inference.
    func callAsFunction(_ x: Tensor, height h: Int, width w: Int, adding residual: Tensor?) -> Tensor {
        let (b, n, c) = (x.size(0), x.size(1), x.size(2))
        // B,N,C -> B,heads,N,d
        func splitHeads(_ t: Tensor) -> Tensor { t.reshape([b, t.size(1), heads, c / heads]).permute(0, 2, 1, 3) }

        var reduced = x
        if let sr, let srNorm {
            let map = x.view([b, h, w, c]).permute(0, 3, 1, 2)  // B,N,C -> B,C,H,W (channels-last view)
            reduced = srNorm(sr(map).flatten(start: 2).transpose(1, 2))  // B,C,H/R,W/R -> B,M,C
        }
        let (q, k, v) = (splitHeads(query(x)), splitHeads(key(reduced)), splitHeads(value(reduced)))
        let attended = OpRecorder.scope("attention") { F.scaledDotProductAttention(q, k, v) }
        let out = attended.transpose(1, 2).reshape([b, n, c])  // B,heads,N,d -> B,N,C
        return residual.map { dense(out, adding: $0) } ?? dense(out)
    }
}

/// Mix-FFN (`mlp`): `dense1` expands, a depth-wise 3x3 conv (`dwconv.dwconv`) mixes neighbours (the positional
/// cue that replaces position embeddings), GELU, `dense2` projects back. Tokens B,N,C in and out.
final class MixFFN: Module {
    let dense1: Linear
    let dwconv: Conv2d
    let dense2: Linear

    init(dim: Int, hidden: Int) {
        dense1 = Linear(dim, hidden)
        dwconv = Conv2d.depthwise(hidden)
        dense2 = Linear(hidden, dim)
        super.init()
        register(modules: ("dense1", dense1), ("dwconv", NameScope(("dwconv", dwconv))), ("dense2", dense2))
    }

    /// Tokens B,N,C -> residual + Mix-FFN output (the addition rides in `dense2` when optimized for inference).
    func callAsFunction(_ x: Tensor, height h: Int, width w: Int, adding residual: Tensor?) -> Tensor {
        let hidden = dense1(x)
        let (b, c) = (hidden.size(0), hidden.size(2))
        let map = hidden.view([b, h, w, c]).permute(0, 3, 1, 2)  // B,N,C' -> B,C',H,W (channels-last view)
        let mixed = dwconv(map, activation: .gelu).permute(0, 2, 3, 1).reshape([b, h * w, c])  // B,C',H,W -> B,N,C' (a view)
        return residual.map { dense2(mixed, adding: $0) } ?? dense2(mixed)
    }
}

/// One MiT block on tokens B,N,C of an H x W map (HF `SegformerLayer`):
/// x = x + attention(LN1(x)); x = x + MixFFN(LN2(x)), each branch with stochastic depth.
final class MixTransformerBlock: Module, StochasticLayer {
    let layerNorm1: LayerNorm
    let attention: EfficientSelfAttention
    let layerNorm2: LayerNorm
    let mlp: MixFFN
    var dropPath: Double
    var rate: Double { get { dropPath } set { dropPath = newValue } }
    var isDropPath: Bool { true }

    init(dim: Int, heads: Int, srRatio: Int, mlpRatio: Int, dropPath: Double) {
        layerNorm1 = LayerNorm(dim)
        attention = EfficientSelfAttention(dim: dim, heads: heads, srRatio: srRatio)
        layerNorm2 = LayerNorm(dim)
        mlp = MixFFN(dim: dim, hidden: dim * mlpRatio)
        self.dropPath = dropPath
        super.init()
        register(modules: ("layer_norm_1", layerNorm1), ("attention", attention), ("layer_norm_2", layerNorm2), ("mlp", mlp))
    }

    func callAsFunction(_ x: Tensor, height h: Int, width w: Int) -> Tensor {
        guard isTraining && dropPath > 0 else {
            let y = attention(layerNorm1(x), height: h, width: w, adding: x)
            return mlp(layerNorm2(y), height: h, width: w, adding: y)
        }
        // Stochastic depth needs each branch on its own.
        let y = x + F.dropPath(attention(layerNorm1(x), height: h, width: w, adding: nil), p: dropPath, training: true)
        return y + F.dropPath(mlp(layerNorm2(y), height: h, width: w, adding: nil), p: dropPath, training: true)
    }
}

// MARK: - Encoder

/// The Mix Transformer encoder (`segformer.encoder`): per stage an overlapping patch embedding
/// (`patch_embeddings.i`), the blocks (`block.i.j`) and a LayerNorm (`layer_norm.i`). Returns each stage's
/// output NCHW at strides 4, 8, 16, 32 (HF's `hidden_states`). Any input of at least `minimumInputSize` works.
public final class MixTransformerEncoder: Module {
    public let config: SegFormerConfig
    let patchEmbeddings: [OverlapPatchEmbed]
    let stages: [ModuleList<MixTransformerBlock>]
    let norms: [LayerNorm]

    public init(_ config: SegFormerConfig) {
        self.config = config
        let dims = config.hiddenSizes
        patchEmbeddings = (0..<config.stageCount).map { s in
            OverlapPatchEmbed(s == 0 ? config.numChannels : dims[s - 1], dims[s], patchSize: config.patchSizes[s],
                              stride: config.strides[s], normEps: 1e-5, normName: "layer_norm")
        }
        let rates = stochasticDepthRates(config.dropPathRate, depths: config.depths)
        stages = (0..<config.stageCount).map { s in
            ModuleList((0..<config.depths[s]).map { i in
                MixTransformerBlock(dim: dims[s], heads: config.numAttentionHeads[s], srRatio: config.srRatios[s],
                                    mlpRatio: config.mlpRatios[s], dropPath: rates[s][i])
            })
        }
        norms = dims.map { LayerNorm($0) }
        super.init()
        register(modules: ("patch_embeddings", ModuleList(patchEmbeddings)), ("block", ModuleList(stages)),
                 ("layer_norm", ModuleList(norms)))
        initializeSegFormerWeights(self)
    }

    /// B,C,H,W -> [F1, F2, F3, F4] (channels-last maps).
    public func features(_ x: Tensor) -> [Tensor] {
        let b = x.size(0)
        var outputs: [Tensor] = []
        var input = x.contiguous(memoryFormat: .channelsLast)  // every conv then reads and writes NHWC, oneDNN's native layout
        for s in 0..<config.stageCount {
            var (tokens, h, w) = patchEmbeddings[s].embed(input)
            for block in stages[s].items {
                tokens = block(tokens, height: h, width: w)
            }
            let map = norms[s](tokens).reshape([b, h, w, -1]).permute(0, 3, 1, 2)  // B,N,C -> B,C,H,W (channels-last view)
            outputs.append(map)
            input = map
        }
        return outputs
    }
}

// MARK: - Decode head

/// The All-MLP decode head (`decode_head`): each stage projected to D channels by a Linear (`linear_c.i.proj`)
/// and resized (bilinear) to stage 1's size; concatenated in reversed stage order (4, 3, 2, 1, as every upstream
/// implementation does); fused by a 1x1 conv (`linear_fuse`, no bias) + BatchNorm + ReLU; dropout; 1x1
/// classifier. Logits at stage 1's stride.
public final class AllMLPHead: Module {
    public let numClasses: Int
    let projections: [Linear]
    let linearFuse: Conv2d
    let batchNorm: BatchNorm2d
    let dropout: Dropout
    let classifier: Conv2d

    public init(inChannels: [Int], hiddenSize: Int, numClasses: Int, dropout: Double = 0.1) {
        self.numClasses = numClasses
        projections = inChannels.map { Linear($0, hiddenSize) }
        linearFuse = Conv2d(hiddenSize * inChannels.count, hiddenSize, kernel: 1, bias: false)
        batchNorm = BatchNorm2d(hiddenSize)
        self.dropout = Dropout(dropout)
        classifier = Conv2d(hiddenSize, numClasses, kernel: 1)
        super.init()
        register(modules: ("linear_c", ModuleList(projections.map { NameScope(("proj", $0)) })), ("linear_fuse", linearFuse),
                 ("batch_norm", batchNorm), ("dropout", self.dropout), ("classifier", classifier))
        initializeSegFormerWeights(self)
    }

    /// [F1, ..., F4] -> logits B,K,H1,W1.
    public func callAsFunction(_ features: [Tensor]) -> Tensor {
        let (h, w) = (features[0].size(2), features[0].size(3))
        if let inferenceForm {  // same function, each stage's projection and fuse slice at the stage's own resolution
            return classifier(dropout(inferenceForm(Array(features.reversed()), size: (h, w))))
        }
        let projected = zip(features, projections).map { f, linear -> Tensor in
            let (b, fh, fw) = (f.size(0), f.size(2), f.size(3))
            let tokens = linear(f.permute(0, 2, 3, 1).reshape([b, fh * fw, -1]))  // B,C,h,w -> B,hw,C -> B,hw,D
            let map = tokens.view([b, fh, fw, -1]).permute(0, 3, 1, 2)  // B,hw,D -> B,D,h,w (channels-last view)
            return F.interpolate(map, size: (h, w))  // stage 1 too (an exact copy), as upstream: FLOPs as published
        }
        let fused = F.relu(batchNorm(linearFuse(Tensor.cat(Array(projected.reversed()), dim: 1))))
        return classifier(dropout(fused))
    }

    /// Set while optimized for inference: projections, `linear_fuse` and the BatchNorm folded into one 1x1 conv per
    /// stage (in the concatenation's order, stages 4..1), see `ResizedConcatConv`.
    private var inferenceForm: ResizedConcatConv?

    public override func prepareForInference() {
        inferenceForm = ResizedConcatConv(conv: linearFuse, batchNorm: batchNorm, inputChannels: projections.map { $0.weight.size(0) }.reversed(),
                                          projections: projections.reversed())
    }

    public override func discardInferencePreparation() { inferenceForm = nil }
}

/// Hugging Face's `_init_weights`, the one initialisation of every SegFormer module: Linear and Conv2d
/// weights N(0, 0.02) with zero bias, LayerNorm (1, 0), BatchNorm PyTorch's default.
func initializeSegFormerWeights(_ root: Module) {
    for (_, m) in root.namedModules() {
        if let l = m as? Linear {
            Init.normal_(l.weight, std: 0.02)
            if let b = l.bias { Init.zeros_(b) }
        } else if let c = m as? Conv2d {
            Init.normal_(c.weight, std: 0.02)
            if let b = c.bias { Init.zeros_(b) }
        }
    }
}

// MARK: - Model

/// MiT encoder + All-MLP head, with the Hugging Face `SegformerForSemanticSegmentation` keys
/// (`segformer.encoder.*`, `decode_head.*`).
public final class SegFormerSegmentation: Module, SegmentationModel {
    public let name: String
    public let config: SegFormerConfig
    public let encoder: MixTransformerEncoder
    public let decodeHead: AllMLPHead
    public var numClasses: Int { decodeHead.numClasses }
    public var outputStride: Int { config.strides[0] }
    public var classifierKey: String { "decode_head.classifier.weight" }
    /// Smaller inputs trap in the spatial-reduction convs: 29 for the standard stage layout.
    public var minimumInputSize: Int { config.minimumInputSize }

    /// `config` must pass `validate()` (the Hugging Face loader checks it first).
    public init(name: String, config: SegFormerConfig, numClasses: Int) {
        do { try config.validate() } catch { preconditionFailure("\(error)") }
        self.name = name
        self.config = config
        encoder = MixTransformerEncoder(config)
        decodeHead = AllMLPHead(inChannels: config.hiddenSizes, hiddenSize: config.decoderHiddenSize, numClasses: numClasses,
                                dropout: config.classifierDropout)
        super.init()
        register(modules: ("segformer", NameScope(("encoder", encoder))), ("decode_head", decodeHead))
    }

    public func logits(_ x: Tensor) -> Tensor {
        let f = OpRecorder.scope("backbone") { encoder.features(x) }
        return DecodeHeadCall.run(f) { decodeHead($0) }
    }

    /// Stage outputs (`stage1` ... HF's hidden_states) and logits, for parity checks and `swiftseg forward`.
    public func forwardAll(_ x: Tensor) -> [String: Tensor] {
        let f = encoder.features(x)
        return stageOutputs(f, logits: decodeHead(f))
    }
}
