import Foundation
import Torch

// The Attention-to-Mask decoder (decode_heads/atm_head.py `ATMHead`, decode_heads/atm_single_head.py `ATMSingleHead`).

/// The cross-attention of the ATM decoder layers (`Attention` in atm_head.py): separate q, k, v and proj Linear
/// layers. Besides the attended queries it reports the layer's mask logits: the pre-softmax scores
/// q·kᵀ·(E/heads)^-½ averaged over the heads, B,Q,HW.
final class MaskAttention: Module, DecoderCrossAttention {
    let heads: Int
    let q: Linear
    let k: Linear
    let v: Linear
    let attnDrop: Dropout
    let proj: Linear

    init(dim: Int, heads: Int, attentionDropout: Double = 0.1) {
        self.heads = heads
        (q, k, v) = (Linear(dim, dim), Linear(dim, dim), Linear(dim, dim))
        attnDrop = Dropout(attentionDropout)
        proj = Linear(dim, dim)
        super.init()
        register(modules: ("q", q), ("k", k), ("v", v), ("attn_drop", attnDrop), ("proj", proj))
    }

    func attend(_ query: Tensor, memory: Tensor) -> (output: Tensor, scores: Tensor?) {
        let (b, nq, c, nk) = (query.size(0), query.size(1), query.size(2), memory.size(1))
        let d = c / heads
        // B,N,C -> B,heads,N,d
        func split(_ t: Tensor, _ n: Int) -> Tensor { t.reshape([b, n, heads, d]).permute(0, 2, 1, 3) }
        let (qh, kh, vh) = (split(q(query), nq), split(k(memory), nk), split(v(memory), nk))
        let logits = OpRecorder.scope("attention") { qh.matmul(kh.transpose(-2, -1)) } * (1 / Double(d).squareRoot())
        let weights = attnDrop(F.softmax(logits, dim: -1))
        let attended = OpRecorder.scope("attention") { weights.matmul(vh) }.transpose(1, 2).reshape([b, nq, c])
        return (proj(attended), logits.sum(dim: 1) / Double(heads))  // scores: B,heads,Q,HW -> B,Q,HW
    }
}

/// An ATM decoder layer (`TPN_DecoderLayer`): torch's post-norm decoder layer (self-attention over the class
/// queries, dropout 0.1, FFN 4E, ReLU) whose cross-attention is replaced after construction by `MaskAttention`,
/// which moves `multihead_attn` to the end of its state_dict.
func atmDecoderLayer(dim: Int, heads: Int) -> TransformerDecoderLayer {
    TransformerDecoderLayer(dModel: dim, numHeads: heads, feedforward: 4 * dim,
                            crossAttention: MaskAttention(dim: dim, heads: heads), crossAttentionPosition: .last)
}

/// `decode_head.loss_decode.criterion.empty_weight`: the no-object class weights of the ATM loss, [1, ..., 1, 0.1]. A
/// persistent buffer of the official loss module, so it is in every checkpoint; the loss itself uses the exact 0.1.
final class ATMLossWeights: Module {
    let emptyWeight: Tensor

    init(numClasses: Int) {
        emptyWeight = Tensor.cat([Tensor.ones([numClasses]), Tensor.full([1], ATMLoss.noObjectWeight)])
        super.init()
        register(buffers: ("empty_weight", emptyWeight))
    }

    /// The `loss_decode` module tree holding the buffer.
    static func lossDecode(numClasses: Int) -> Module { NameScope(("criterion", ATMLossWeights(numClasses: numClasses))) }
}

/// What an ATM head read out: per read-out (stage or layer) the class logits B,K,K+1 and mask logits B,K,h,w at the
/// token grid (the maps the auxiliary losses use), and the final masks resized to img_size.
struct ATMOutputs {
    var classLogits: [Tensor]
    var masks: [Tensor]
    var predMasks: Tensor

    /// Final prediction first, then the auxiliary ones in read-out order (`aux_outputs.0`, `.1`, ...).
    var maskPredictions: [MaskPrediction] {
        [MaskPrediction(classLogits: classLogits.last!, maskLogits: predMasks)]
            + zip(classLogits.dropLast(), masks.dropLast()).map { MaskPrediction(classLogits: $0, maskLogits: $1) }
    }

    /// `semantic_inference` of the final prediction: class scores B,K,img,img.
    var scores: Tensor { semanticInference(classLogits: classLogits.last!, maskLogits: predMasks) }
}

/// The ATM head: K learned class queries (`q`) pass through ATM decoders against the backbone features; every
/// decoder layer's cross-attention scores are that layer's mask logits, and `class_embed` classifies the queries
/// (K classes + "no object").
///
/// - `.stagesAccumulated` (`ATMHead`): one decoder per feature, deepest feature first, each behind a Linear +
///   LayerNorm lateral (`input_proj_s`, `proj_norm_s`); queries carry over between stages; a stage reads out its last
///   layer, and its mask is added to the previous stages' masks.
/// - `.everyLayer` (`ATMSingleHead`, the Shrunk head's `atm`, use_proj=False): one decoder on the features as they
///   come; every layer reads out, masks are not accumulated.
public final class ATMHead: Module {
    public enum Readout: Sendable { case stagesAccumulated, everyLayer }

    public let numClasses: Int
    public let imageSize: Int
    public let readout: Readout
    let projections: [Linear]
    let projectionNorms: [LayerNorm]
    let decoders: [TransformerDecoder]
    let queries: Embedding
    let classEmbed: Linear

    /// `inChannels` nil: no lateral projection (`use_proj=False`).
    public init(inChannels: Int?, dim: Int, heads: Int, layers: Int, stages: Int, numClasses: Int, imageSize: Int, readout: Readout) {
        precondition(readout == .stagesAccumulated || stages == 1, "ATMSingleHead is used with one stage")
        self.numClasses = numClasses
        self.imageSize = imageSize
        self.readout = readout
        projections = inChannels.map { c in (0..<stages).map { _ in Linear(c, dim) } } ?? []
        projectionNorms = inChannels == nil ? [] : (0..<stages).map { _ in LayerNorm(dim) }
        decoders = (0..<stages).map { _ in TransformerDecoder(count: layers) { atmDecoderLayer(dim: dim, heads: heads) } }
        queries = Embedding(numClasses, dim)
        classEmbed = Linear(dim, numClasses + 1)
        super.init()
        register(modules: ("loss_decode", ATMLossWeights.lossDecode(numClasses: numClasses)))
        for s in 0..<stages {
            if !projections.isEmpty {
                register(modules: ("input_proj_\(s + 1)", projections[s]), ("proj_norm_\(s + 1)", projectionNorms[s]))
            }
            register(modules: ("decoder_\(s + 1)", decoders[s]))
        }
        register(modules: ("q", queries), ("class_embed", classEmbed))
        initializeATMWeights(self)
    }

    /// features: backbone outputs in backbone order, B,C,h,w maps or B,N,C tokens (square token grids) -> the read-outs.
    func callAsFunction(_ features: [Tensor], tap: SegViTTap? = nil, prefix: String = "decode_head.") -> ATMOutputs {
        let tokens = features.reversed().map { $0.rank == 4 ? $0.flatten(start: 2).transpose(1, 2) : $0 }  // B,C,h,w -> B,hw,C
        var q = queries.weight.unsqueeze(0).expand([tokens[0].size(0), numClasses, queries.weight.size(1)])  // B,K,E
        var readQueries: [Tensor] = [], readScores: [Tensor] = []
        for (s, x) in tokens.enumerated() {
            let name = "\(prefix)decoder_\(s + 1)"
            var lateral = x
            if !projections.isEmpty {
                lateral = projectionNorms[s](projections[s](x))
                tap?("\(prefix)proj_norm_\(s + 1)", lateral)
            }
            var scores: Tensor? = nil
            let layers = decoders[s].layers
            for (j, layer) in layers.enumerated() {
                (q, scores) = layer(q, memory: lateral)
                switch readout {
                case .stagesAccumulated:
                    tap?("\(name).layers.\(j).0", q)
                    tap?("\(name).layers.\(j).1", scores!)
                case .everyLayer:
                    // TPN_Decoder returns (queries of every layer, scores of every layer).
                    tap?("\(name).\(j)", q)
                    tap?("\(name).\(layers.count + j)", scores!)
                    readQueries.append(q)
                    readScores.append(scores!)
                }
            }
            if readout == .stagesAccumulated {
                tap?("\(name).0", q)
                tap?("\(name).1", scores!)
                readQueries.append(q)
                readScores.append(scores!)
            }
        }

        let maps = readScores.map(Self.squareMap)
        let size = (maps.last!.size(2), maps.last!.size(3))
        var masks: [Tensor] = []
        for m in maps {
            let up = F.interpolate(m, size: size)  // an identity for plain ViTs; called as upstream does
            masks.append(readout == .stagesAccumulated && !masks.isEmpty ? masks.last! + up : up)
        }
        let classLogits = classEmbed(Tensor.stack(readQueries, dim: 0))  // R,B,K,E -> R,B,K,K+1
        tap?("\(prefix)class_embed", classLogits)
        let predMasks = F.interpolate(masks.last!, size: (imageSize, imageSize))
        return ATMOutputs(classLogits: (0..<classLogits.size(0)).map { classLogits[$0] }, masks: masks, predMasks: predMasks)
    }

    /// Mask logits B,K,N of a square token grid -> B,K,s,s (upstream's d3_to_d4; inputs are validated square).
    static func squareMap(_ scores: Tensor) -> Tensor {
        let n = scores.size(2), side = Int(Double(n).squareRoot())
        precondition(side * side == n, "SegViT: the ATM head needs a square token grid, got \(n) tokens")
        return scores.reshape([scores.size(0), scores.size(1), side, side])
    }
}

/// The heads' `init_weights`: every Linear (attention out_proj included) trunc-normal 0.02 with zero bias, LayerNorm
/// (1, 0). Packed in_proj weights keep torch's xavier-uniform (shared by the layers of a decoder, which torch clones
/// from one layer), the learned queries N(0, 1).
func initializeATMWeights(_ root: Module) {
    for (_, m) in root.namedModules() {
        if let l = m as? Linear {
            Init.truncNormal_(l.weight, std: 0.02)
            if let b = l.bias { Init.zeros_(b) }
        } else if let n = m as? LayerNorm {
            Init.ones_(n.weight)
            Init.zeros_(n.bias)
        }
    }
}
