import Foundation
import Torch

/// The Shrunk structure's head (decode_heads/tpn_atm_head.py `TPNATMHead`): query-based up-sampling (QU).
/// (imageSize / shrinkRatio)² learned queries (`q`) pass through one standard torch decoder (`decoder_s`, 3 post-norm
/// layers, FFN 4E) per backbone output, each against a Linear + LayerNorm lateral of that output, in backbone order
/// (not reversed); the decoded queries are the token map an `ATMHead` in `.everyLayer` mode (`atm`) reads.
public final class TPNATMHead: Module {
    let projections: [Linear]
    let projectionNorms: [LayerNorm]
    let decoders: [TransformerDecoder]
    let queries: Embedding
    let atm: ATMHead

    public init(_ config: SegViTConfig, numClasses: Int) {
        let (e, heads) = (config.decoderDims, config.decoderHeads)
        let stages = config.outIndices.count
        projections = (0..<stages).map { _ in Linear(config.embedDims, e) }
        projectionNorms = (0..<stages).map { _ in LayerNorm(e) }
        decoders = (0..<stages).map { _ in
            TransformerDecoder(count: config.decoderLayers) { TransformerDecoderLayer(dModel: e, numHeads: heads, feedforward: 4 * e) }
        }
        let side = config.imageSize / config.shrinkRatio
        queries = Embedding(side * side, e)
        atm = ATMHead(inChannels: nil, dim: e, heads: heads, layers: config.decoderLayers, stages: 1, numClasses: numClasses,
                      imageSize: config.imageSize, readout: .everyLayer)
        super.init()
        register(modules: ("loss_decode", ATMLossWeights.lossDecode(numClasses: numClasses)))
        for s in 0..<stages {
            register(modules: ("input_proj_\(s + 1)", projections[s]), ("proj_norm_\(s + 1)", projectionNorms[s]), ("decoder_\(s + 1)", decoders[s]))
        }
        register(modules: ("q", queries), ("atm", atm))
        initializeATMWeights(self)
    }

    public var numClasses: Int { atm.numClasses }

    /// features: the Shrunk ViT's token outputs B,N_s,D (full grid, then quarter grid) -> the ATM read-outs.
    func callAsFunction(_ features: [Tensor], tap: SegViTTap? = nil) -> ATMOutputs {
        let b = features[0].size(0)
        var q = queries.weight.unsqueeze(0).expand([b, queries.weight.size(0), queries.weight.size(1)])  // B,Nq,E
        for (s, x) in features.enumerated() {
            let lateral = projectionNorms[s](projections[s](x))
            tap?("decode_head.proj_norm_\(s + 1)", lateral)
            for (j, layer) in decoders[s].layers.enumerated() {
                q = layer(q, memory: lateral).output
                tap?("decode_head.decoder_\(s + 1).layers.\(j)", q)
            }
            tap?("decode_head.decoder_\(s + 1)", q)
        }
        // The decoded queries are a (imageSize / shrinkRatio)² token map for the ATM head.
        return atm([q], tap: tap, prefix: "decode_head.atm.")
    }
}
