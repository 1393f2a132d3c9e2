import Foundation

/// `torch.nn.MultiheadAttention` with its parameter names: the query, key and value projections packed in one
/// [3E, E] matrix `in_proj_weight` (rows q, k, v) and `in_proj_bias`, then `out_proj`. Checkpoints of every
/// model built on it (mmcv/mmseg ViT layers, torch's transformer layers) load without renaming.
///
/// Tensors are batch-first (B, N, E). torch's default layout is sequence-first; the arithmetic is the same.
/// Attention runs through `scaled_dot_product_attention` (counted by the FLOP counter as q·kᵀ + attn·v,
/// scope "attention").
public final class MultiheadAttention: Module {
    public let embedDim: Int
    public let numHeads: Int
    /// Dropout on the attention weights, in training mode only (torch's `dropout` argument).
    public let dropout: Double
    public let inProjWeight: Tensor
    public let inProjBias: Tensor?
    public let outProj: Linear

    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true) {
        precondition(embedDim % numHeads == 0, "MultiheadAttention: embed_dim \(embedDim) must divide by num_heads \(numHeads)")
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.dropout = dropout
        inProjWeight = Tensor.empty([3 * embedDim, embedDim])
        inProjBias = bias ? Tensor.zeros([3 * embedDim]) : nil
        outProj = Linear(embedDim, embedDim, bias: bias)
        super.init()
        // torch's _reset_parameters: xavier-uniform packed weight, zero biases (out_proj.weight keeps Linear's init).
        Init.xavierUniform_(inProjWeight)
        if let b = outProj.bias { Init.zeros_(b) }
        register(parameters: ("in_proj_weight", inProjWeight), ("in_proj_bias", inProjBias))
        register(modules: ("out_proj", outProj))
    }

    /// Self-attention: x B,N,E -> B,N,E.
    public override func callAsFunction(_ x: Tensor) -> Tensor { self(x, x, x) }

    /// `query:key:value:` spelled with labels, for decoders that pass positions and masks around.
    public func callAsFunction(query: Tensor, key: Tensor, value: Tensor, blockedMask: Tensor? = nil) -> Tensor {
        self(query, key, value, blockedMask: blockedMask)
    }

    /// query B,Nq,E attends to key/value B,Nk,E -> B,Nq,E. Pass the same tensor object for key and value (and
    /// query) to project them with one packed matrix product, as torch does. `blockedMask` follows PyTorch's boolean
    /// `attn_mask`: true where a query may NOT attend a key, shape Nq,Nk or B·heads,Nq,Nk; a row that blocks every
    /// key gives NaN, as in PyTorch.
    public func callAsFunction(_ query: Tensor, _ key: Tensor, _ value: Tensor, blockedMask: Tensor? = nil) -> Tensor {
        let (b, nq, nk) = (query.size(0), query.size(1), key.size(1))
        let q: Tensor, k: Tensor, v: Tensor
        if query === key && key === value {
            let qkv = project(query, rows: 0..<3).chunk(3, dim: -1)
            (q, k, v) = (qkv[0], qkv[1], qkv[2])
        } else if key === value {
            q = project(query, rows: 0..<1)
            let kv = project(key, rows: 1..<3).chunk(2, dim: -1)
            (k, v) = (kv[0], kv[1])
        } else {
            (q, k, v) = (project(query, rows: 0..<1), project(key, rows: 1..<2), project(value, rows: 2..<3))
        }
        let d = embedDim / numHeads
        // B,N,E -> B,heads,N,d
        func heads(_ t: Tensor, _ n: Int) -> Tensor { t.reshape([b, n, numHeads, d]).transpose(1, 2) }
        let allowed = blockedMask.map { m in (m.rank == 3 ? m.view([b, numHeads, nq, nk]) : m).logicalNot() }
        let attended = OpRecorder.scope("attention") {
            F.scaledDotProductAttention(heads(q, nq), heads(k, nk), heads(v, nk), mask: allowed, dropout: isTraining ? dropout : 0)
        }
        return outProj(attended.transpose(1, 2).reshape([b, nq, embedDim]))  // B,heads,Nq,d -> B,Nq,E
    }

    /// x projected by the packed rows `rows` (0 = q, 1 = k, 2 = v) of `in_proj_weight`.
    private func project(_ x: Tensor, rows: Range<Int>) -> Tensor {
        let start = rows.lowerBound * embedDim, length = rows.count * embedDim
        return F.linear(x, weight: inProjWeight.narrow(0, start: start, length: length),
                        bias: inProjBias?.narrow(0, start: start, length: length))
    }
}
