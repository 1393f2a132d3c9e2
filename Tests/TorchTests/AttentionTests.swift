import Foundation
import Testing
@testable import Torch

@Suite("MultiheadAttention and the transformer decoder")
struct AttentionTests {
    @Test("torch's parameter names and shapes; zero biases at start")
    func names() {
        let mha = MultiheadAttention(embedDim: 12, numHeads: 3)
        #expect(mha.stateDict().map { $0.0 } == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        #expect(mha.inProjWeight.shape == [36, 12])
        #expect(mha.inProjBias!.abs().max().item() == 0 && mha.outProj.bias!.abs().max().item() == 0)
    }

    @Test("packed projections (self-attention, shared key/value) equal separate ones, and the explicit softmax(q kᵀ/√d) v")
    func packedPaths() {
        let mha = MultiheadAttention(embedDim: 12, numHeads: 3).eval()
        Torch.noGrad { mha.inProjBias!.normal_() }
        let x = Tensor.randn([2, 5, 12]), y = Tensor.randn([2, 7, 12])
        let selfAttention = mha(x), selfSeparate = mha(x, x.clone(), x.clone())
        #expect((selfAttention - selfSeparate).abs().max().item() < 1e-5)
        let cross = mha(x, y, y), crossSeparate = mha(x, y, y.clone())
        #expect((cross - crossSeparate).abs().max().item() < 1e-5)

        // Reference: per-head softmax(q kᵀ / √d) v with the packed rows q, k, v, then out_proj.
        let w = mha.inProjWeight.chunk(3, dim: 0), b = mha.inProjBias!.chunk(3, dim: 0)
        func heads(_ t: Tensor, _ n: Int) -> Tensor { t.reshape([2, n, 3, 4]).transpose(1, 2) }
        let q = heads(F.linear(x, weight: w[0], bias: b[0]), 5)
        let k = heads(F.linear(y, weight: w[1], bias: b[1]), 7), v = heads(F.linear(y, weight: w[2], bias: b[2]), 7)
        let attention = F.softmax(q.matmul(k.transpose(2, 3)) / 2.0, dim: -1).matmul(v)
        let expected = mha.outProj(attention.transpose(1, 2).reshape([2, 5, 12]))
        #expect((cross - expected).abs().max().item() < 1e-5)
    }

    @Test("attention dropout acts in training only")
    func dropout() {
        let mha = MultiheadAttention(embedDim: 8, numHeads: 2, dropout: 0.5)
        let x = Tensor.randn([1, 16, 8])
        mha.eval()
        #expect((mha(x) - mha(x)).abs().max().item() == 0)
        mha.train()
        #expect((mha(x) - mha(x)).abs().max().item() > 0)
    }

    @Test("decoder layers: torch's key order, or the cross-attention last; the decoder's layers start as copies")
    func decoder() {
        let layer = TransformerDecoderLayer(dModel: 8, numHeads: 2, feedforward: 16)
        let modules = layer.children.map(\.name)
        #expect(modules == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
                            "dropout1", "dropout2", "dropout3"])
        let moved = TransformerDecoderLayer(dModel: 8, numHeads: 2, feedforward: 16, crossAttentionPosition: .last)
        #expect(moved.children.last?.name == "multihead_attn")

        let decoder = TransformerDecoder(count: 3) { TransformerDecoderLayer(dModel: 8, numHeads: 2, feedforward: 16) }
        #expect(decoder.stateDict().first?.0 == "layers.0.self_attn.in_proj_weight")
        let first = decoder.layers[0].stateDict(), last = decoder.layers[2].stateDict()
        for ((_, a), (_, b)) in zip(first, last) { #expect((a - b).abs().max().item() == 0) }

        // Post-norm: every layer's output is LayerNorm-ed (zero mean over the features at unit LN weights).
        decoder.eval()
        let out = decoder(Tensor.randn([2, 4, 8]), memory: Tensor.randn([2, 6, 8]))
        #expect(out.shape == [2, 4, 8])
        #expect(out.mean(dim: -1).abs().max().item() < 1e-5)
    }
}
