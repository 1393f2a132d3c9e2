import Foundation
import Torch

// LRFormer ("Low-Resolution Self-Attention for Semantic Segmentation", TPAMI 2025), built as the
// official implementation builds it (yuhuan-wu/LRFormer, commit 59f2764). Parameter paths equal the
// official state_dict keys. Where code and paper differ, the code wins: see docs/lrformer-notes.md.

// MARK: - Config

public struct LRFormerConfig: Sendable, Equatable {
    public var embedDims: [Int]
    public var depths: [Int]
    /// Always [2, 4, 10, 16] upstream: no config overrides the constructor default.
    public var heads: [Int] = [2, 4, 10, 16]
    public var mlpRatios: [Int] = [8, 8, 4, 4]
    public var dropPathRate: Double
    /// Query grid (short side) of the encoder's LRSA: 16 for segmentation, 7 for ImageNet classification.
    public var querySize: Int = 16
    /// LRHead width; nil for a bare encoder (XL upstream uses a Mask2Former decoder).
    public var decoderChannels: Int?
    public var decoderHeads: Int = 8
    public var decoderQuerySize: Int = 32
    /// Stage-3 blocks that get a BatchNorm pre-norm (XL only: against fp16 overflow).
    public var stage3PreNormBlocks: Set<Int> = []

    public static let t = LRFormerConfig(embedDims: [48, 96, 240, 384], depths: [2, 2, 6, 3], dropPathRate: 0.1, decoderChannels: 256)
    public static let s = LRFormerConfig(embedDims: [64, 128, 320, 512], depths: [3, 3, 12, 3], dropPathRate: 0.2, decoderChannels: 384)
    public static let b = LRFormerConfig(embedDims: [80, 160, 400, 512], depths: [4, 4, 15, 8], dropPathRate: 0.4, decoderChannels: 512)
    public static let l = LRFormerConfig(embedDims: [96, 192, 480, 640], depths: [4, 6, 18, 8], dropPathRate: 0.6, decoderChannels: 640)
    /// XL: decoder width 768 is SwiftSeg's choice (upstream pairs XL with Mask2Former).
    public static let xl = LRFormerConfig(embedDims: [128, 256, 640, 768], depths: [4, 8, 22, 8], dropPathRate: 0.4,
                                          decoderChannels: 768, stage3PreNormBlocks: [7, 15])
    /// The parity fixtures' tiny configuration.
    public static let tiny = LRFormerConfig(embedDims: [16, 32, 64, 96], depths: [1, 1, 2, 1], heads: [1, 2, 4, 4], dropPathRate: 0,
                                            decoderChannels: 32)

    public static let variants: [(name: String, config: LRFormerConfig)] = [("t", .t), ("s", .s), ("b", .b), ("l", .l), ("xl", .xl)]

    /// Key/value pyramid of the encoder: [11, 8, 6, 4] for a 16-cell query, scaled for other query sizes.
    var encoderPyramid: [Int] { scaledPyramid(querySize: querySize) }
}

// MARK: - Encoder blocks

/// Stage-1 stem (`patch_embed1`): four 3x3 convs (strides 2,1,2,1) with BN+GELU between, then LayerNorm
/// over tokens. Output stride 4.
final class LRFormerStem: Module {
    let conv1: Sequential
    let norm: LayerNorm

    init(outChannels c: Int) {
        conv1 = Sequential(
            Conv2d(3, c / 2, kernel: 3, stride: 2, padding: 1), BatchNorm2d(c / 2), GELU(),
            Conv2d(c / 2, c / 2, kernel: 3, padding: 1), BatchNorm2d(c / 2), GELU(),
            Conv2d(c / 2, c, kernel: 3, stride: 2, padding: 1), BatchNorm2d(c), GELU(),
            Conv2d(c, c, kernel: 3, padding: 1))
        norm = LayerNorm(c, eps: 1e-6)
        super.init()
        register(modules: ("conv1", conv1), ("norm", norm))
    }

    /// B,3,H,W -> tokens B,N,C and the grid size.
    func embed(_ x: Tensor) -> (Tensor, Int, Int) {
        let y = conv1(x)
        return (norm(y.flatten(start: 2).transpose(1, 2)), y.size(2), y.size(3))
    }
}

/// One encoder block on tokens B,N,C of an H x W map:
/// x = pre_norm(x); x = x + cpe(x); x = x + ls1·LRSA(norm1(x)); x = x + ls2·IRB(norm2(x)).
final class LRFormerBlock: Module, StochasticLayer {
    let preNorm: BatchNorm2d?
    let norm1: LayerNorm
    let attn: LowResolutionAttention
    let norm2: LayerNorm
    let mlp: InvertedResidualFFN
    let cpe: Conv2d
    let layerScale1: Tensor?
    let layerScale2: Tensor?
    var dropPath: Double
    var rate: Double { get { dropPath } set { dropPath = newValue } }
    var isDropPath: Bool { true }

    init(dim: Int, heads: Int, mlpRatio: Int, querySize: Int, pyramid: [Int], layerScale: Bool, preNorm: Bool, dropPath: Double) {
        self.preNorm = preNorm ? BatchNorm2d(dim) : nil
        norm1 = LayerNorm(dim, eps: 1e-6)
        attn = LowResolutionAttention(dim: dim, heads: heads, querySize: querySize, pyramidSizes: pyramid,
                                      queryProjection: .linear, kvSequential: true)
        norm2 = LayerNorm(dim, eps: 1e-6)
        mlp = InvertedResidualFFN(dim: dim, hidden: dim * mlpRatio)
        cpe = Conv2d.depthwise(dim)
        layerScale1 = layerScale ? Tensor.full([dim], 1e-6) : nil
        layerScale2 = layerScale ? Tensor.full([dim], 1e-6) : nil
        self.dropPath = dropPath
        super.init()
        register(parameters: ("layer_scale_1", layerScale1), ("layer_scale_2", layerScale2))
        register(modules: ("pre_norm", self.preNorm), ("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp), ("cpe", cpe))
    }

    func callAsFunction(_ x: Tensor, h: Int, w: Int, refine: [Conv2d]) -> Tensor {
        let (b, c) = (x.size(0), x.size(2))
        // Tokens B,N,C and a channels-last B,C,H,W map are the same memory: both conversions are views.
        func toMap(_ t: Tensor) -> Tensor { t.view([b, h, w, c]).permute(0, 3, 1, 2) }  // B,N,C -> B,C,H,W
        func toTokens(_ t: Tensor) -> Tensor { t.permute(0, 2, 3, 1).reshape([b, h * w, c]) }  // B,C,H,W -> B,N,C

        var map = toMap(x)
        if let preNorm { map = preNorm(map) }
        var y = toTokens(cpe(map, adding: map))
        y = residual(y, toTokens(attn(toMap(norm1(y)), refine: refine)), scale: layerScale1)
        if isTraining && dropPath > 0 {
            y = residual(y, toTokens(mlp(toMap(norm2(y)))), scale: layerScale2)
        } else {
            y = toTokens(mlp(toMap(norm2(y)), scale: layerScale2, accumulatingInto: toMap(y)))  // y is this block's own: fc2 adds into it
        }
        return y
    }

    /// y + drop_path(scale · branch); without stochastic depth one fused pass (no scaled temporary).
    private func residual(_ y: Tensor, _ branch: Tensor, scale: Tensor?) -> Tensor {
        if isTraining && dropPath > 0 { return y + F.dropPath(scale.map { branch * $0 } ?? branch, p: dropPath, training: true) }
        return scale.map { y.addcmul(branch, $0) } ?? y + branch
    }

    /// The layer scale of the feed-forward branch rides in fc2's weights.
    override func prepareForInference() {
        mlp.fc2.packForInference(outputScale: layerScale2)
    }
}

// MARK: - Encoder

/// The LRFormer encoder: stem + 3 patch embeddings, per-stage shared depth-wise convs (`d_convs{s}`)
/// and blocks (`block{s}`). Returns F1..F4 (NCHW, strides 4, 8, 16, 32). Any input size works.
public final class LRFormerEncoder: Module {
    public let config: LRFormerConfig
    let stem: LRFormerStem
    let patchEmbeds: [OverlapPatchEmbed]
    let pyramidConvs: [ModuleList<Conv2d>]
    let stages: [ModuleList<LRFormerBlock>]

    public init(_ config: LRFormerConfig) {
        self.config = config
        let dims = config.embedDims
        stem = LRFormerStem(outChannels: dims[0])
        // Stages 2-4 (`patch_embed{2,3,4}`): conv3x3 stride 2 + LayerNorm. The grid is the conv's real output
        // size, ceil(H/2): upstream assumes floor(H/2) and crashes on sizes where they differ.
        patchEmbeds = (1..<4).map { OverlapPatchEmbed(dims[$0 - 1], dims[$0], patchSize: 3, stride: 2, normEps: 1e-6) }
        let pyramid = config.encoderPyramid
        pyramidConvs = dims.map { d in ModuleList(pyramid.map { _ in Conv2d.depthwise(d) }) }

        // Stochastic depth rises linearly over all blocks.
        let rates = stochasticDepthRates(config.dropPathRate, depths: config.depths)
        stages = (0..<4).map { s in
            ModuleList((0..<config.depths[s]).map { i in
                LRFormerBlock(dim: dims[s], heads: config.heads[s], mlpRatio: config.mlpRatios[s], querySize: config.querySize,
                              pyramid: pyramid, layerScale: s >= 2, preNorm: s == 2 && config.stage3PreNormBlocks.contains(i),
                              dropPath: rates[s][i])
            })
        }
        super.init()
        register(modules: ("patch_embed1", stem))
        for (i, p) in patchEmbeds.enumerated() { register(modules: ("patch_embed\(i + 2)", p)) }
        for (i, d) in pyramidConvs.enumerated() { register(modules: ("d_convs\(i + 1)", d)) }
        for (i, s) in stages.enumerated() { register(modules: ("block\(i + 1)", s)) }
        initializeLinearLayers(of: self)
    }


    /// B,3,H,W -> [F1, F2, F3, F4] (channels-last maps).
    public func features(_ x: Tensor) -> [Tensor] {
        let b = x.size(0)
        var outputs: [Tensor] = []
        var input = x.contiguous(memoryFormat: .channelsLast)  // every conv then reads and writes NHWC, oneDNN's native layout
        for s in 0..<4 {
            var (tokens, h, w) = s == 0 ? stem.embed(input) : patchEmbeds[s - 1].embed(input)
            let refine = pyramidConvs[s].items
            for block in stages[s].items {
                tokens = block(tokens, h: h, w: w, refine: refine)
            }
            let map = tokens.reshape([b, h, w, config.embedDims[s]]).permute(0, 3, 1, 2)  // B,N,C -> B,C,H,W
            outputs.append(map)
            input = map
        }
        return outputs
    }
}

/// Trunc-normal(0.02) Linear weights with zero bias; LayerNorms (1, 0) and convs keep PyTorch's defaults.
/// This is the official intent: upstream's mmengine helper call is a no-op that leaves PyTorch defaults.
func initializeLinearLayers(of module: Module) {
    for (_, m) in module.namedModules() {
        if let l = m as? Linear {
            Init.truncNormal_(l.weight, std: 0.02)
            if let b = l.bias { Init.zeros_(b) }
        }
    }
}

// MARK: - Decoder (LRHead)

/// A decoder block on NCHW maps: x = x + cpe(x); x = x + ls1·LRSA(BN1(x)); x = x + ls2·IRB(BN2(x)),
/// with the decoder's LRSA (1x1-conv query pooled to 32 cells, key/value pyramid [22,16,12,8], no refinement).
final class LRHeadBlock: Module {
    let norm1: BatchNorm2d
    let attn: LowResolutionAttention
    let norm2: BatchNorm2d
    let mlp: InvertedResidualFFN
    let cpe: Conv2d
    let layerScale1: Tensor
    let layerScale2: Tensor

    init(dim: Int, heads: Int, querySize: Int, mlpRatio: Int = 4) {
        norm1 = BatchNorm2d(dim)
        attn = LowResolutionAttention(dim: dim, heads: heads, querySize: querySize, pyramidSizes: scaledPyramid(querySize: querySize),
                                      queryProjection: .conv1x1, kvSequential: false)
        norm2 = BatchNorm2d(dim)
        mlp = InvertedResidualFFN(dim: dim, hidden: dim * mlpRatio)
        cpe = Conv2d.depthwise(dim)
        layerScale1 = Tensor.full([dim], 1e-6)
        layerScale2 = Tensor.full([dim], 1e-6)
        super.init()
        register(parameters: ("layer_scale_1", layerScale1), ("layer_scale_2", layerScale2))
        register(modules: ("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp), ("cpe", cpe))
    }

    /// Set while optimized for inference: norm2 (an eval BatchNorm) is folded into mlp.fc1, a 1x1 conv.
    private var norm2Folded = false

    override func callAsFunction(_ x: Tensor) -> Tensor {
        let c = x.size(1)
        var y = cpe(x, adding: x)
        y = y.addcmul(attn(norm1(y)), layerScale1.view([1, c, 1, 1]))
        return mlp(norm2Folded ? y : norm2(y), scale: layerScale2, accumulatingInto: y)  // y is this block's own
    }

    override func prepareForInference() {
        norm2Folded = mlp.fc1.packForInference(inputBatchNorm: norm2)
        mlp.fc2.packForInference(outputScale: layerScale2)
    }

    override func discardInferencePreparation() { norm2Folded = false }
}

/// LRHead: F2..F4 resized to F2's size and fused by two LRSA blocks; logits at stride 8.
public final class LRHead: Module {
    public let numClasses: Int
    let convSeg: Conv2d
    let dropout: Dropout2d
    let squeeze1: ConvModule
    let squeeze2: ConvModule
    let fuseBlock1: LRHeadBlock
    let fuseBlock2: LRHeadBlock

    /// Channels of F2, F3, F4.
    let featureChannels: [Int]

    public init(inChannels: [Int], channels: Int, numClasses: Int, heads: Int = 8, querySize: Int = 32) {
        self.numClasses = numClasses
        featureChannels = inChannels
        convSeg = Conv2d(channels, numClasses, kernel: 1)
        dropout = Dropout2d(0.1)
        squeeze1 = ConvModule(inChannels.reduce(0, +), channels)
        squeeze2 = ConvModule(channels + inChannels.last!, channels)
        fuseBlock1 = LRHeadBlock(dim: channels, heads: heads, querySize: querySize)
        fuseBlock2 = LRHeadBlock(dim: channels, heads: heads, querySize: querySize)
        super.init()
        // BaseDecodeHead registers conv_seg and dropout first.
        register(modules: ("conv_seg", convSeg), ("dropout", dropout), ("squeeze1", squeeze1), ("squeeze2", squeeze2),
                 ("fuse_block1", fuseBlock1), ("fuse_block2", fuseBlock2))
        initializeLinearLayers(of: self)
    }

    /// [F2, F3, F4] -> logits B,K,H/8,W/8.
    public func callAsFunction(_ features: [Tensor]) -> Tensor {
        let (h, w) = (features[0].size(2), features[0].size(3))
        if let (s1, s2) = squeezeForms {  // same function, each input's slice of the squeeze convs at its own resolution
            let x = fuseBlock1(s1(features, size: (h, w)))
            return convSeg(dropout(fuseBlock2(s2([x, features.last!], size: (h, w)))))
        }
        // Every level is resized, F2 to its own size too (an exact copy), as mmseg's `resize` does: the
        // op sequence, and so the FLOP count, stays the official one.
        let resized = features.map { F.interpolate($0, size: (h, w)) }
        var x = squeeze1(Tensor.cat(resized, dim: 1))
        x = fuseBlock1(x)
        x = squeeze2(Tensor.cat([x, resized.last!], dim: 1))
        x = fuseBlock2(x)
        return convSeg(dropout(x))
    }

    /// Set while optimized for inference: squeeze1 and squeeze2 as sums of per-input convs (`ResizedConcatConv`).
    private var squeezeForms: (ResizedConcatConv, ResizedConcatConv)?

    public override func prepareForInference() {
        guard let bn1 = squeeze1.norm as? BatchNorm2d, let bn2 = squeeze2.norm as? BatchNorm2d, squeeze1.relu, squeeze2.relu else { return }
        let channels = squeeze2.conv.weight.size(0)
        guard let s1 = ResizedConcatConv(conv: squeeze1.conv, batchNorm: bn1, inputChannels: featureChannels,
                                         projections: featureChannels.map { _ in nil }),
              let s2 = ResizedConcatConv(conv: squeeze2.conv, batchNorm: bn2, inputChannels: [channels, featureChannels.last!],
                                         projections: [nil, nil])
        else { return }
        squeezeForms = (s1, s2)
    }

    public override func discardInferencePreparation() { squeezeForms = nil }
}

// MARK: - Models

/// LRFormer encoder + LRHead (mmseg EncoderDecoder: keys `backbone.*`, `decode_head.*`).
public final class LRFormerSegmentation: Module, SegmentationModel {
    public let name: String
    public let backbone: LRFormerEncoder
    public let decodeHead: LRHead
    public var numClasses: Int { decodeHead.numClasses }
    public var outputStride: Int { 8 }
    public var classifierKey: String { "decode_head.conv_seg.weight" }

    public init(name: String, config: LRFormerConfig, numClasses: Int) {
        precondition(config.decoderChannels != nil, "LRFormerSegmentation needs decoderChannels")
        self.name = name
        backbone = LRFormerEncoder(config)
        decodeHead = LRHead(inChannels: Array(config.embedDims.dropFirst()), channels: config.decoderChannels!,
                            numClasses: numClasses, heads: config.decoderHeads, querySize: config.decoderQuerySize)
        super.init()
        register(modules: ("backbone", backbone), ("decode_head", decodeHead))
    }

    public func logits(_ x: Tensor) -> Tensor {
        let f = OpRecorder.scope("backbone") { backbone.features(x) }
        return DecodeHeadCall.run(Array(f.dropFirst())) { decodeHead($0) }
    }

    /// Stage outputs and logits, for parity checks and `swiftseg forward`.
    public func forwardAll(_ x: Tensor) -> [String: Tensor] {
        let f = backbone.features(x)
        return stageOutputs(f, logits: decodeHead(Array(f.dropFirst())))
    }
}

/// The ImageNet classifier: encoder with query pooled to 7, global average pooling of F4, Linear `head`.
public final class LRFormerClassifier: Module {
    public let name: String
    public let backbone: LRFormerEncoder
    public let head: Linear

    public init(name: String, config: LRFormerConfig, numClasses: Int = 1000) {
        var c = config
        c.querySize = 7
        self.name = name
        backbone = LRFormerEncoder(c)
        head = Linear(c.embedDims[3], numClasses)
        super.init()
        register(modules: ("backbone", backbone), ("head", head))
        initializeLinearLayers(of: head)
    }

    /// B,3,H,W -> class logits B,K.
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        let f4 = backbone.features(x)[3]
        return head(f4.mean([2, 3]))
    }
}
