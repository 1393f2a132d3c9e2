import Foundation
import Torch

/// SegViT: the ViT (`backbone`) and an ATM head (`decode_head`: `ATMHead`, or `TPNATMHead` for the Shrunk structure),
/// with the official state_dict keys, so mmseg 0.x checkpoints of zbwxp/SegVit load as they are.
///
/// The head's masks are resized to the configured img_size, not to the input: `logits` returns class scores
/// B,K,img,img for any (square) input, and prediction resizes them to the input, as mmseg's `encode_decode` does.
/// The official test protocol therefore slides img_size windows over the image.
public final class SegViTSegmentation: Module, SegmentationModel, IntermediateOutputs {
    public let name: String
    public let config: SegViTConfig
    public let backbone: SegViTBackbone
    let atmHead: ATMHead?
    let tpnHead: TPNATMHead?

    public init(name: String, config: SegViTConfig, numClasses: Int) {
        self.name = name
        self.config = config
        backbone = SegViTBackbone(config)
        switch config.head {
        case .atm:
            atmHead = ATMHead(inChannels: config.embedDims, dim: config.decoderDims, heads: config.decoderHeads,
                              layers: config.decoderLayers, stages: config.outIndices.count, numClasses: numClasses,
                              imageSize: config.imageSize, readout: .stagesAccumulated)
            tpnHead = nil
        case .tpnATM:
            atmHead = nil
            tpnHead = TPNATMHead(config, numClasses: numClasses)
        }
        super.init()
        register(modules: ("backbone", backbone), ("decode_head", (atmHead as Module?) ?? tpnHead))
    }

    public var numClasses: Int { atmHead?.numClasses ?? tpnHead!.numClasses }
    /// The scores come at img_size; for img_size inputs (the slide windows) that is stride 1.
    public var outputStride: Int { 1 }
    /// The class queries (K, E): their first dimension is the class count (`class_embed` has K + 1 rows).
    public var classifierKey: String { atmHead != nil ? "decode_head.q.weight" : "decode_head.atm.q.weight" }

    /// Backbone + head, every read-out.
    func outputs(_ x: Tensor, tap: SegViTTap? = nil) -> ATMOutputs {
        let features = OpRecorder.scope("backbone") { backbone.features(x, tap: tap) }
        for (i, f) in features.enumerated() { tap?("backbone.\(i)", f) }
        return DecodeHeadCall.run(features) { features in
            if let atmHead { return atmHead(features, tap: tap) }
            return tpnHead!(features, tap: tap)
        }
    }

    /// B,3,H,W (square) -> `semantic_inference` scores B,K,img,img (the head's eval output).
    public func logits(_ x: Tensor) -> Tensor {
        let out = outputs(x)
        return DecodeHeadCall.run(on: x.device) { out.scores }
    }

    /// The ATM loss's inputs: final (class logits, masks at img_size) first, then the auxiliary read-outs.
    public func trainingOutputs(_ x: Tensor) -> SegmentationOutputs {
        SegmentationOutputs(maskPredictions: outputs(x).maskPredictions)
    }

    /// Every tensor the official fixtures store, under their names (batch-first: queries are B,Q,E where the
    /// fixtures keep torch's sequence-first Q,B,E): backbone tokens per layer and outputs, laterals, decoder queries
    /// and mask logits per layer, per-read-out class logits, `pred_logits`, `pred_masks`, `aux_outputs.i.*`,
    /// `pred` (scores at img_size) and `seg_logits` (scores at the input size).
    public func forwardAll(_ x: Tensor) -> [String: Tensor] {
        var all: [String: Tensor] = [:]
        let out = outputs(x) { all[$0] = $1 }
        let predictions = out.maskPredictions
        all["pred_logits"] = predictions[0].classLogits
        all["pred_masks"] = predictions[0].maskLogits
        for (i, p) in predictions.dropFirst().enumerated() {
            all["aux_outputs.\(i).pred_logits"] = p.classLogits
            all["aux_outputs.\(i).pred_masks"] = p.maskLogits
        }
        let scores = out.scores
        all["pred"] = scores
        all["seg_logits"] = F.interpolate(scores, size: (x.size(2), x.size(3)))
        return all
    }
}
