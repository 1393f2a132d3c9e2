import Foundation

/// The cross-attention of a `TransformerDecoderLayer`: queries attend to a memory. A layer may also report its
/// attention scores (SegViT's ATM reads its masks from them).
public protocol DecoderCrossAttention: Module {
    /// query B,Nq,E and memory B,Nk,E -> B,Nq,E, and the attention scores B,Nq,Nk when the layer reports them.
    func attend(_ query: Tensor, memory: Tensor) -> (output: Tensor, scores: Tensor?)
}

extension MultiheadAttention: DecoderCrossAttention {
    public func attend(_ query: Tensor, memory: Tensor) -> (output: Tensor, scores: Tensor?) {
        (self(query, memory, memory), nil)
    }
}

/// `torch.nn.TransformerDecoderLayer` as torch builds it by default (post-norm, ReLU, its parameter names):
///
///     t = norm1(t + dropout1(self_attn(t)))
///     t = norm2(t + dropout2(multihead_attn(t, memory)))
///     t = norm3(t + dropout3(linear2(dropout(relu(linear1(t))))))
///
/// `multihead_attn` is torch's `MultiheadAttention` unless another `DecoderCrossAttention` is given.
/// Tensors are batch-first (B, N, E).
public final class TransformerDecoderLayer: Module {
    /// Where `multihead_attn` sits in the state_dict: torch registers it right after `self_attn`; code that
    /// replaces it after construction (`del self.multihead_attn; self.multihead_attn = ...`) moves it to the end.
    public enum CrossAttentionPosition: Sendable { case afterSelfAttention, last }

    public let selfAttn: MultiheadAttention
    public let crossAttention: any DecoderCrossAttention
    public let linear1: Linear
    public let linear2: Linear
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let norm3: LayerNorm
    let dropout: Dropout
    let dropout1: Dropout
    let dropout2: Dropout
    let dropout3: Dropout

    public init(dModel: Int, numHeads: Int, feedforward: Int, dropout p: Double = 0.1, layerNormEps: Double = 1e-5,
                crossAttention: (any DecoderCrossAttention)? = nil, crossAttentionPosition: CrossAttentionPosition = .afterSelfAttention) {
        selfAttn = MultiheadAttention(embedDim: dModel, numHeads: numHeads, dropout: p)
        self.crossAttention = crossAttention ?? MultiheadAttention(embedDim: dModel, numHeads: numHeads, dropout: p)
        linear1 = Linear(dModel, feedforward)
        linear2 = Linear(feedforward, dModel)
        norm1 = LayerNorm(dModel, eps: layerNormEps)
        norm2 = LayerNorm(dModel, eps: layerNormEps)
        norm3 = LayerNorm(dModel, eps: layerNormEps)
        (dropout, dropout1, dropout2, dropout3) = (Dropout(p), Dropout(p), Dropout(p), Dropout(p))
        super.init()
        register(modules: ("self_attn", selfAttn))
        if crossAttentionPosition == .afterSelfAttention { register(modules: ("multihead_attn", self.crossAttention)) }
        register(modules: ("linear1", linear1), ("dropout", dropout), ("linear2", linear2), ("norm1", norm1), ("norm2", norm2),
                 ("norm3", norm3), ("dropout1", dropout1), ("dropout2", dropout2), ("dropout3", dropout3))
        if crossAttentionPosition == .last { register(modules: ("multihead_attn", self.crossAttention)) }
    }

    /// tgt B,Nq,E and memory B,Nk,E -> the updated tgt and the cross-attention's scores (if it reports them).
    public func callAsFunction(_ tgt: Tensor, memory: Tensor) -> (output: Tensor, scores: Tensor?) {
        var t = norm1(tgt + dropout1(selfAttn(tgt)))
        let (attended, scores) = crossAttention.attend(t, memory: memory)
        t = norm2(t + dropout2(attended))
        t = norm3(t + dropout3(linear2(dropout(F.relu(linear1(t))))))
        return (t, scores)
    }
}

/// `torch.nn.TransformerDecoder` without a final norm: `layers.{i}` run in order.
public final class TransformerDecoder: Module {
    public let layers: [TransformerDecoderLayer]

    /// torch deep-copies the one layer it is given, so every layer starts from the same weights; `makeLayer`
    /// builds them and layer 0's initial weights are copied into the others.
    public init(count: Int, _ makeLayer: () -> TransformerDecoderLayer) {
        precondition(count > 0, "TransformerDecoder needs at least one layer")
        layers = (0..<count).map { _ in makeLayer() }
        super.init()
        register(modules: ("layers", ModuleList(layers)))
        let first = layers[0].stateDict()
        Torch.noGrad {
            for layer in layers.dropFirst() {
                for ((_, src), (_, dst)) in zip(first, layer.stateDict()) { dst.copy_(src) }
            }
        }
    }

    /// tgt B,Nq,E attends to memory B,Nk,E through every layer -> B,Nq,E.
    public func callAsFunction(_ tgt: Tensor, memory: Tensor) -> Tensor {
        layers.reduce(tgt) { t, layer in layer(t, memory: memory).output }
    }
}
