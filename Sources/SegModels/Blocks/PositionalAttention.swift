import Torch

/// mmcv's transformer `MultiheadAttention` wrapper (DETR-style decoders): positions are added to the queries
/// and keys (not to the values), `nn.MultiheadAttention` (`attn`) attends, and the input query is added back.
public final class PositionalAttention: Module {
    public let attn: MultiheadAttention

    public init(dim: Int, heads: Int) {
        attn = MultiheadAttention(embedDim: dim, numHeads: heads)
        super.init()
        register(modules: ("attn", attn))
    }

    /// query B,Nq,C; key and value B,Nk,C; positions broadcastable to them. `blockedMask` as `MultiheadAttention`'s.
    public func callAsFunction(query: Tensor, key: Tensor, value: Tensor, queryPos: Tensor?, keyPos: Tensor?,
                               blockedMask: Tensor? = nil) -> Tensor {
        let q = queryPos.map { query + $0 } ?? query
        let k = keyPos.map { key + $0 } ?? key
        return query + attn(query: q, key: k, value: value, blockedMask: blockedMask)
    }
}
