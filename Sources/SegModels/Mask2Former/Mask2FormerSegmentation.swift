import Torch

/// A backbone with the Mask2Former head (mmseg `EncoderDecoder`: keys `backbone.*`, `decode_head.*`).
///
/// - `logits(x)`: mmseg's semantic inference of the last prediction at the masks' stride 4, B,K,H/4,W/4.
/// - `predictLogits(x)`: as mmseg's `predict`, the last mask logits are upsampled to the input size first,
///   then combined (the sigmoid does not commute with the upsampling).
/// - `trainingOutputs(x).maskPredictions`: the final prediction first, then the auxiliary ones in decoder order
///   (from the initial queries, after layer 1, ...), as the family's loss names them: `loss_*`, then `d0.loss_*`,
///   `d1.loss_*`, ...
public final class Mask2FormerSegmentation: Module, SegmentationModel {
    public let name: String
    public let backbone: any FeatureExtractor
    public let decodeHead: Mask2FormerHead
    public var numClasses: Int { decodeHead.numClasses }
    public var outputStride: Int { 4 }
    public var classifierKey: String { "decode_head.cls_embed.weight" }
    /// `cls_embed` has a last row for "no object".
    public var classifierExtraRows: Int { 1 }

    public init(name: String, backbone: any FeatureExtractor, head: Mask2FormerConfig, numClasses: Int) {
        self.name = name
        self.backbone = backbone
        decodeHead = Mask2FormerHead(head, numClasses: numClasses)
        super.init()
        register(modules: ("backbone", backbone), ("decode_head", decodeHead))
    }

    /// Backbone and head in one pass, each under its FLOP-report scope.
    public func forwardHead(_ x: Tensor) -> (features: [Tensor], head: Mask2FormerHead.Output) {
        let f = OpRecorder.scope("backbone") { backbone.features(x) }
        return (f, DecodeHeadCall.run(f) { decodeHead($0) })
    }

    public func logits(_ x: Tensor) -> Tensor {
        let out = forwardHead(x).head
        return DecodeHeadCall.run(on: x.device) { Mask2FormerHead.semanticScores(out.predictions.last!) }
    }

    public func predictLogits(_ x: Tensor) -> Tensor {
        var last = forwardHead(x).head.predictions.last!
        return DecodeHeadCall.run(on: x.device) {
            last.maskLogits = F.interpolate(last.maskLogits, size: (x.size(2), x.size(3)))
            return Mask2FormerHead.semanticScores(last)
        }
    }

    public func trainingOutputs(_ x: Tensor) -> SegmentationOutputs {
        let predictions = forwardHead(x).head.predictions
        return SegmentationOutputs(maskPredictions: [predictions.last!] + predictions.dropLast())
    }
}

extension Mask2FormerSegmentation: IntermediateOutputs {
    /// The parity fixture's tensors: `backbone.out0..3`, `pixel_decoder.mask_features`, `pixel_decoder.memory0..2`
    /// (strides 32, 16, 8), `decoder.i.cls_logits` / `.mask_logits` (i = 0 from the initial queries) and
    /// `seg_logits` (= `predictLogits`).
    public func forwardAll(_ x: Tensor) -> [String: Tensor] {
        let (features, head) = forwardHead(x)
        var out: [String: Tensor] = ["pixel_decoder.mask_features": head.pixelDecoder.maskFeatures]
        for (i, f) in features.enumerated() { out["backbone.out\(i)"] = f }
        for (i, m) in head.pixelDecoder.memories.enumerated() { out["pixel_decoder.memory\(i)"] = m }
        for (i, p) in head.predictions.enumerated() {
            out["decoder.\(i).cls_logits"] = p.classLogits
            out["decoder.\(i).mask_logits"] = p.maskLogits
        }
        var last = head.predictions.last!
        last.maskLogits = F.interpolate(last.maskLogits, size: (x.size(2), x.size(3)))
        out["seg_logits"] = Mask2FormerHead.semanticScores(last)
        return out
    }
}
