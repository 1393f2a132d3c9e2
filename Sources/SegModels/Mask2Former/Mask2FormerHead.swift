import Torch

/// mmseg's `Mask2FormerHead` (mmdet's, with `cls_embed` re-created for `numClasses` + 1): the pixel decoder, then
/// `numQueries` learned queries refined by the transformer decoder, which attends one feature level per layer
/// (strides 32, 16, 8, 32, ...) only where the previous prediction's mask is on. A prediction (class logits with
/// a last "no object" column, mask logits at stride 4) is made from the queries before the first layer and
/// after every layer.
public final class Mask2FormerHead: Module {
    public let config: Mask2FormerConfig
    public let numClasses: Int
    let pixelDecoder: MSDeformAttnPixelDecoder
    let transformerDecoder: Mask2FormerTransformerDecoder
    let queryEmbed: Embedding
    let queryFeat: Embedding
    let levelEmbed: Embedding
    let clsEmbed: Linear
    let maskEmbed: Sequential
    let positionalEncoding: SinePositionalEncoding

    public init(_ config: Mask2FormerConfig, numClasses: Int) {
        self.config = config
        self.numClasses = numClasses
        let c = config.featChannels
        pixelDecoder = MSDeformAttnPixelDecoder(config)
        transformerDecoder = Mask2FormerTransformerDecoder(dim: c, heads: config.decoderHeads, ffnHidden: config.decoderFFN,
                                                           count: config.decoderLayers)
        queryEmbed = Embedding(config.numQueries, c)
        queryFeat = Embedding(config.numQueries, c)
        levelEmbed = Embedding(config.featureLevels, c)
        clsEmbed = Linear(c, numClasses + 1)
        maskEmbed = Sequential(Linear(c, c), ReLU(), Linear(c, c), ReLU(), Linear(c, c))
        positionalEncoding = SinePositionalEncoding(numFeats: c / 2)
        super.init()
        // `decoder_input_projs` are identities (decoder width = feat_channels): no parameters.
        register(modules: ("pixel_decoder", pixelDecoder), ("transformer_decoder", transformerDecoder),
                 ("query_embed", queryEmbed), ("query_feat", queryFeat), ("level_embed", levelEmbed),
                 ("cls_embed", clsEmbed), ("mask_embed", maskEmbed))
        // mmdet's `init_weights`: Xavier-normal decoder matrices (the pixel decoder initialises itself);
        // embeddings, `cls_embed` and `mask_embed` keep PyTorch's defaults.
        for p in transformerDecoder.parameters where p.rank > 1 { Init.xavierNormal_(p) }
    }

    /// Everything one forward pass gives: the pixel decoder's outputs and every prediction, in decoder order
    /// (index 0 from the initial queries, i after layer i).
    public struct Output {
        public var pixelDecoder: MSDeformAttnPixelDecoder.Output
        public var predictions: [MaskPrediction]
    }

    /// features: backbone outputs at strides 4, 8, 16, 32.
    public func callAsFunction(_ features: [Tensor]) -> Output {
        let b = features[0].size(0)
        let device = features[0].device
        let pixels = pixelDecoder(features)
        let levels = config.featureLevels
        var memories: [Tensor] = [], memoryPositions: [Tensor] = [], sizes: [(Int, Int)] = []
        for (i, m) in pixels.memories.enumerated() {
            // B,C,h,w -> B,hw,C, plus the level's embedding.
            memories.append(m.flatten(start: 2).transpose(1, 2) + levelEmbed.weight[i].view([1, 1, -1]))
            let sine = positionalEncoding(height: m.size(2), width: m.size(3), device: device).to(m.dtype)
            memoryPositions.append(sine.flatten(start: 2).transpose(1, 2))
            sizes.append((m.size(2), m.size(3)))
        }
        let queryPos = queryEmbed.weight.unsqueeze(0).expand([b, -1, -1])
        var query = queryFeat.weight.unsqueeze(0).expand([b, -1, -1])

        var (prediction, blocked) = predict(query, maskFeatures: pixels.maskFeatures, attentionSize: sizes[0])
        var predictions = [prediction]
        for (i, layer) in transformerDecoder.layers.items.enumerated() {
            let level = i % levels
            // A query whose mask is off everywhere attends every pixel instead (mmdet).
            let offEverywhere = blocked.sum(dim: -1) .== Double(blocked.size(-1))
            blocked = blocked .& offEverywhere.logicalNot().unsqueeze(-1)
            query = layer(query, queryPos: queryPos, memory: memories[level], memoryPos: memoryPositions[level],
                          blockedMask: blocked)
            (prediction, blocked) = predict(query, maskFeatures: pixels.maskFeatures, attentionSize: sizes[(i + 1) % levels])
            predictions.append(prediction)
        }
        return Output(pixelDecoder: pixels, predictions: predictions)
    }

    /// mmdet's `_forward_head`: class and mask logits from the normalised queries, and the next layer's attention
    /// mask (B·heads,Q,hw: true where sigmoid(mask logit) < 0.5 at that level's size).
    func predict(_ query: Tensor, maskFeatures: Tensor, attentionSize: (Int, Int)) -> (MaskPrediction, Tensor) {
        let q = transformerDecoder.postNorm(query)
        let classLogits = clsEmbed(q)
        let maskLogits = Tensor.einsum("bqc,bchw->bqhw", maskEmbed(q), maskFeatures)
        let (b, nq) = (maskLogits.size(0), maskLogits.size(1))
        let heads = config.decoderHeads
        let small = Torch.noGrad { F.interpolate(maskLogits.detach(), size: attentionSize) }
        let blocked = F.sigmoid(small.flatten(start: 2)) .< 0.5  // B,Q,hw
        let perHead = blocked.unsqueeze(1).expand([b, heads, nq, -1]).reshape([b * heads, nq, -1])
        return (MaskPrediction(classLogits: classLogits, maskLogits: maskLogits), perHead)
    }

    /// mmseg's semantic inference: softmax over the classes without "no object", sigmoid masks, and
    /// Σ_q p(c|q)·m_q -> B,K,h,w at the masks' size.
    public static func semanticScores(_ p: MaskPrediction) -> Tensor {
        let k = p.classLogits.size(-1) - 1
        let probabilities = F.softmax(p.classLogits, dim: -1).narrow(-1, start: 0, length: k)
        return Tensor.einsum("bqc,bqhw->bchw", probabilities, F.sigmoid(p.maskLogits))
    }
}
