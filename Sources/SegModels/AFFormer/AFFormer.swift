import Foundation
import Torch

/// AFFormer backbone + CLS head (mmseg EncoderDecoder: keys `backbone.*`, `decode_head.*`).
public final class AFFormerSegmentation: Module, SegmentationModel {
    public let name: String
    public let config: AFFormerConfig
    public let backbone: AFFormerBackbone
    public let decodeHead: CLSHead
    public var numClasses: Int { decodeHead.numClasses }
    public var outputStride: Int { 8 }
    public var classifierKey: String { "decode_head.conv_seg.weight" }
    /// The head's `align` ConvModule: in every official checkpoint, never used by the forward pass.
    public var unusedParameterKeys: [String] { stateDict().map(\.0).filter { $0.hasPrefix("decode_head.align.") } }

    public init(name: String, config: AFFormerConfig, numClasses: Int) {
        self.name = name
        self.config = config
        backbone = AFFormerBackbone(config)
        decodeHead = CLSHead(inChannels: config.embedDims[3], channels: config.headChannels, groups: config.headGroups,
                             numClasses: numClasses, dropout: config.dropout)
        super.init()
        register(modules: ("backbone", backbone), ("decode_head", decodeHead))
        initializeAFFormerWeights(self)
    }

    public func logits(_ x: Tensor) -> Tensor {
        let f = OpRecorder.scope("backbone") { backbone.features(x) }
        return DecodeHeadCall.run(f) { decodeHead($0, tap: nil) }
    }

    /// Every module output the official fixture stores, under its PyTorch module path (`backbone.stem`,
    /// `backbone.mhca_stages.1.mhca_blks.0.crpe.call0`, `decode_head.conv_seg`, ...), plus `seg_logits`
    /// (logits resized to the input, align_corners false), `seg_pred` (their argmax) and, as for every family,
    /// `logits` (= `decode_head.conv_seg`).
    public func forwardAll(_ x: Tensor) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let tap: Tap = { name, t in out[name] = t }
        let f = backbone.features(x, tap: prefixed(tap, "backbone"))
        let logits = decodeHead(f, tap: prefixed(tap, "decode_head"))
        let full = F.interpolate(logits, size: (x.size(2), x.size(3)))
        out["logits"] = logits
        out["seg_logits"] = full
        out["seg_pred"] = full.argmax(dim: 1)
        return out
    }
}

extension AFFormerSegmentation: IntermediateOutputs {}

/// The official initialisation for training from scratch: backbone (`AFFormer._init_weights`) convs
/// N(0, √(2 / fan_out)) with fan_out = k·k·out/groups and zero bias, Linear trunc-normal(0.02) with zero bias,
/// norms 1 and 0; head (mmseg/mmcv) `conv_seg` N(0, 0.01) with zero bias, ConvModule convs kaiming-normal
/// (fan_out, ReLU), GroupNorm 1 and 0.
func initializeAFFormerWeights(_ model: AFFormerSegmentation) {
    for (_, m) in model.backbone.namedModules() {
        if let conv = m as? Conv2d {
            let s = conv.weight.shape
            let fanOut = s[0] * s[2] * s[3] / conv.groups
            Init.normal_(conv.weight, std: (2 / Double(fanOut)).squareRoot())
            if let b = conv.bias { Init.zeros_(b) }
        } else if let linear = m as? Linear {
            Init.truncNormal_(linear.weight, std: 0.02)
            if let b = linear.bias { Init.zeros_(b) }
        }
    }
    let head = model.decodeHead
    Init.normal_(head.convSeg.weight, std: 0.01)
    if let b = head.convSeg.bias { Init.zeros_(b) }
    for module in [head.squeeze, head.align] { Init.kaimingNormalFanOut_(module.conv.weight) }
}
