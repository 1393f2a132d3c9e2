import Foundation

/// `torch.nn.MultiheadAttention` with a packed input projection (`in_proj_weight` [3E, E], `in_proj_bias` [3E],
/// `out_proj`), batch-first: query B,Nq,E, key and value B,Nk,E -> B,Nq,E.
///
/// The attention itself is `F.scaledDotProductAttention` (q·kᵀ/√d, softmax, ·v), which equals PyTorch's explicit
/// path up to rounding.
public final class MultiheadAttention: Module {
    public let embedDim: Int
    public let heads: Int
    public let inProjWeight: Tensor
    public let inProjBias: Tensor
    public let outProj: Linear

    public init(embedDim: Int, heads: Int) {
        precondition(embedDim % heads == 0, "MultiheadAttention: embedDim \(embedDim) must divide by heads \(heads)")
        self.embedDim = embedDim
        self.heads = heads
        inProjWeight = Tensor.empty([3 * embedDim, embedDim])
        inProjBias = Tensor.zeros([3 * embedDim])
        outProj = Linear(embedDim, embedDim)
        super.init()
        // PyTorch's `_reset_parameters`: Xavier-uniform packed projection, zero biases.
        Init.xavierUniform_(inProjWeight)
        if let b = outProj.bias { Init.zeros_(b) }
        register(parameters: ("in_proj_weight", inProjWeight), ("in_proj_bias", inProjBias))
        register(modules: ("out_proj", outProj))
    }

    /// `blockedMask` follows PyTorch's boolean `attn_mask`: true where a query may NOT attend a key; shape
    /// Nq,Nk or B·heads,Nq,Nk. A row that blocks every key gives NaN, as in PyTorch.
    public func callAsFunction(query: Tensor, key: Tensor, value: Tensor, blockedMask: Tensor? = nil) -> Tensor {
        let (b, nq, nk, e) = (query.size(0), query.size(1), key.size(1), embedDim)
        let d = e / heads
        let w = inProjWeight.chunk(3, dim: 0), bias = inProjBias.chunk(3, dim: 0)
        // B,N,E -> B,heads,N,d
        func split(_ t: Tensor, _ n: Int) -> Tensor { t.view([b, n, heads, d]).transpose(1, 2) }
        let q = split(F.linear(query, weight: w[0], bias: bias[0]), nq)
        let k = split(F.linear(key, weight: w[1], bias: bias[1]), nk)
        let v = split(F.linear(value, weight: w[2], bias: bias[2]), nk)
        let allowed = blockedMask.map { m in
            (m.rank == 3 ? m.view([b, heads, nq, nk]) : m).logicalNot()
        }
        let attended = F.scaledDotProductAttention(q, k, v, mask: allowed)  // B,heads,Nq,d
        return outProj(attended.transpose(1, 2).reshape([b, nq, e]))        // -> B,Nq,E
    }
}
