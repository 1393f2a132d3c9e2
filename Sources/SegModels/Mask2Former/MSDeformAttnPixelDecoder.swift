import Torch

/// One layer of the deformable encoder (`DeformableDetrTransformerEncoderLayer`, post-norm):
/// x = norm0(x + MSDeformAttn(x + pos)); x = norm1(x + FFN(x)).
final class DeformableEncoderLayer: Module {
    let selfAttn: MultiScaleDeformableAttention
    let ffn: MMCVFeedForward
    let norms: ModuleList<LayerNorm>

    init(dim: Int, heads: Int, levels: Int, points: Int, ffnHidden: Int) {
        selfAttn = MultiScaleDeformableAttention(dim: dim, heads: heads, levels: levels, points: points)
        ffn = MMCVFeedForward(dim: dim, hidden: ffnHidden, activation: ReLU())
        norms = ModuleList([LayerNorm(dim), LayerNorm(dim)])
        super.init()
        register(modules: ("self_attn", selfAttn), ("ffn", ffn), ("norms", norms))
    }

    func callAsFunction(_ x: Tensor, pos: Tensor, reference: Tensor, shapes: [(h: Int, w: Int)]) -> Tensor {
        var y = selfAttn(query: x, queryPos: pos, value: x, reference: reference, shapes: shapes)
        y = norms[0](y)
        return norms[1](ffn(y))
    }
}

/// `Mask2FormerTransformerEncoder`: the stack of deformable layers (`layers`).
final class DeformableEncoder: Module {
    let layers: ModuleList<DeformableEncoderLayer>

    init(_ layers: [DeformableEncoderLayer]) {
        self.layers = ModuleList(layers)
        super.init()
        register(modules: ("layers", self.layers))
    }
}

/// mmdet's `MSDeformAttnPixelDecoder`: the three coarsest backbone features (strides 32, 16, 8) are projected
/// (`input_convs`, 1x1 conv + GroupNorm), refined together by the deformable encoder, then an FPN step adds the
/// finest feature (`lateral_convs`, `output_convs`) and `mask_feature` gives the per-pixel embeddings at stride 4.
public final class MSDeformAttnPixelDecoder: Module {
    public let config: Mask2FormerConfig
    let inputConvs: ModuleList<ConvModule>
    let encoder: DeformableEncoder
    let levelEncoding: Embedding
    let lateralConvs: ModuleList<ConvModule>
    let outputConvs: ModuleList<ConvModule>
    let maskFeature: Conv2d
    let positionalEncoding: SinePositionalEncoding

    public init(_ config: Mask2FormerConfig) {
        self.config = config
        let (c, levels, inputs) = (config.featChannels, config.featureLevels, config.inChannels.count)
        // From the coarsest level down: in_channels[3], [2], [1].
        inputConvs = ModuleList((0..<levels).map { i in
            ConvModule(config.inChannels[inputs - 1 - i], c, bias: true, norm: .group(config.normGroups), relu: false)
        })
        encoder = DeformableEncoder((0..<config.encoderLayers).map { _ in
            DeformableEncoderLayer(dim: c, heads: config.encoderHeads, levels: levels, points: config.encoderPoints,
                                   ffnHidden: config.encoderFFN)
        })
        levelEncoding = Embedding(levels, c)
        // The finer features the encoder leaves out (stride 4), coarsest first.
        let rest = Array((0..<(inputs - levels)).reversed())
        lateralConvs = ModuleList(rest.map { ConvModule(config.inChannels[$0], c, norm: .group(config.normGroups), relu: false) })
        outputConvs = ModuleList(rest.map { _ in
            ConvModule(c, c, kernel: 3, padding: 1, norm: .group(config.normGroups))
        })
        maskFeature = Conv2d(c, c, kernel: 1)
        positionalEncoding = SinePositionalEncoding(numFeats: c / 2)
        super.init()
        register(modules: ("input_convs", inputConvs), ("encoder", encoder), ("level_encoding", levelEncoding),
                 ("lateral_convs", lateralConvs), ("output_convs", outputConvs), ("mask_feature", maskFeature))
        initializeWeights()
    }

    /// mmdet's `init_weights`: Xavier-uniform input projections, caffe2-Xavier (Kaiming-uniform, a = 1) FPN convs
    /// and mask projection, N(0, 1) level encoding, Xavier-normal encoder matrices (then the deformable
    /// attention's own init); zero conv biases.
    func initializeWeights() {
        for m in inputConvs.items {
            Init.xavierUniform_(m.conv.weight)
            Init.zeros_(m.conv.bias!)
        }
        for conv in lateralConvs.items.map(\.conv) + outputConvs.items.map(\.conv) + [maskFeature] {
            Init.kaimingUniform_(conv.weight, a: 1)
            if let b = conv.bias { Init.zeros_(b) }
        }
        for p in encoder.parameters where p.rank > 1 { Init.xavierNormal_(p) }
        for layer in encoder.layers.items { layer.selfAttn.initializeWeights() }
    }

    /// Pixel-decoder outputs: `memories` at strides 32, 16, 8 (coarsest first, B,C,h,w) and `maskFeatures`
    /// B,C,H/4,W/4.
    public struct Output {
        public var maskFeatures: Tensor
        public var memories: [Tensor]
    }

    /// features: backbone outputs at strides 4, 8, 16, 32.
    public func callAsFunction(_ features: [Tensor]) -> Output {
        let b = features[0].size(0)
        let device = features[0].device
        let levels = config.featureLevels
        var tokens: [Tensor] = [], positions: [Tensor] = [], references: [Tensor] = []
        var shapes: [(h: Int, w: Int)] = []
        for i in 0..<levels {
            let feature = features[features.count - 1 - i]
            let (h, w) = (feature.size(2), feature.size(3))
            let projected = inputConvs[i](feature)
            let sine = positionalEncoding(height: h, width: w, device: device).to(projected.dtype)
            let levelPos = levelEncoding.weight[i].view([1, -1, 1, 1]) + sine
            tokens.append(projected.flatten(start: 2).transpose(1, 2))  // B,C,h,w -> B,hw,C
            positions.append(levelPos.flatten(start: 2).transpose(1, 2))
            references.append(Self.referencePoints(height: h, width: w, device: device))
            shapes.append((h, w))
        }
        var x = Tensor.cat(tokens, dim: 1)
        let pos = Tensor.cat(positions, dim: 1)
        let reference = Tensor.cat(references, dim: 1)
        for layer in encoder.layers.items {
            x = layer(x, pos: pos, reference: reference, shapes: shapes)
        }

        // B,N,C -> per level B,C,h,w (coarsest first)
        let memory = x.transpose(1, 2)
        var outs = zip(memory.split(sizes: shapes.map { $0.h * $0.w }, dim: 2), shapes).map { t, s in t.reshape([b, -1, s.h, s.w]) }
        // FPN step for the finer levels: lateral + upsampled coarser, then a 3x3 conv.
        for (i, level) in (0..<(features.count - levels)).reversed().enumerated() {
            let lateral = lateralConvs[i](features[level])
            let y = lateral + F.interpolate(outs.last!, size: (lateral.size(2), lateral.size(3)))
            outs.append(outputConvs[i](y))
        }
        return Output(maskFeatures: maskFeature(outs.last!), memories: Array(outs.prefix(levels)))
    }

    /// Cell centres ((j + 0.5) / w, (i + 0.5) / h), row by row -> 1,hw,2 (mmdet's `MlvlPointGenerator` normalised).
    static func referencePoints(height h: Int, width w: Int, device: Device) -> Tensor {
        var xy: [Float] = []
        xy.reserveCapacity(h * w * 2)
        for i in 0..<h {
            for j in 0..<w { xy += [(Float(j) + 0.5) / Float(w), (Float(i) + 0.5) / Float(h)] }
        }
        return Tensor(xy, shape: [1, h * w, 2]).to(device)
    }
}
