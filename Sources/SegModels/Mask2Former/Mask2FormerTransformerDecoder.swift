import Torch

/// `Mask2FormerTransformerDecoderLayer` (post-norm, masked cross-attention first):
/// q = norm0(q + CrossAttn(q + qpos, mem + mpos, mem; mask)); q = norm1(q + SelfAttn(q + qpos, q + qpos, q));
/// q = norm2(q + FFN(q)). Parameters in mmdet's order: self_attn, cross_attn, ffn, norms.
final class Mask2FormerDecoderLayer: Module {
    let selfAttn: PositionalAttention
    let crossAttn: PositionalAttention
    let ffn: MMCVFeedForward
    let norms: ModuleList<LayerNorm>

    init(dim: Int, heads: Int, ffnHidden: Int) {
        selfAttn = PositionalAttention(dim: dim, heads: heads)
        crossAttn = PositionalAttention(dim: dim, heads: heads)
        ffn = MMCVFeedForward(dim: dim, hidden: ffnHidden, activation: ReLU())
        norms = ModuleList((0..<3).map { _ in LayerNorm(dim) })
        super.init()
        register(modules: ("self_attn", selfAttn), ("cross_attn", crossAttn), ("ffn", ffn), ("norms", norms))
    }

    /// query B,Q,C; memory B,N,C; `blockedMask` B·heads,Q,N (true: the query does not look at that pixel).
    func callAsFunction(_ query: Tensor, queryPos: Tensor, memory: Tensor, memoryPos: Tensor, blockedMask: Tensor) -> Tensor {
        var q = crossAttn(query: query, key: memory, value: memory, queryPos: queryPos, keyPos: memoryPos, blockedMask: blockedMask)
        q = norms[0](q)
        q = norms[1](selfAttn(query: q, key: q, value: q, queryPos: queryPos, keyPos: queryPos))
        return norms[2](ffn(q))
    }
}

/// `Mask2FormerTransformerDecoder`: the layers and the LayerNorm (`post_norm`) applied before every prediction.
final class Mask2FormerTransformerDecoder: Module {
    let layers: ModuleList<Mask2FormerDecoderLayer>
    let postNorm: LayerNorm

    init(dim: Int, heads: Int, ffnHidden: Int, count: Int) {
        layers = ModuleList((0..<count).map { _ in Mask2FormerDecoderLayer(dim: dim, heads: heads, ffnHidden: ffnHidden) })
        postNorm = LayerNorm(dim)
        super.init()
        register(modules: ("layers", layers), ("post_norm", postNorm))
    }
}
