import Torch

/// An optimiser rule matched on parameter names (mmengine `paramwise_cfg.custom_keys`).
public struct ParamRule: Sendable, Equatable {
    public var lrMult: Double
    public var decayMult: Double
    public init(lrMult: Double = 1, decayMult: Double = 1) {
        self.lrMult = lrMult
        self.decayMult = decayMult
    }
}

/// What every segmentation model in SwiftSeg offers: logits at its own stride, prediction at input
/// size, and its optimiser rules. LRFormer, SegFormer, AFFormer and SegViT all conform.
public protocol SegmentationModel: Module {
    var name: String { get }
    var numClasses: Int { get }
    /// Stride of `logits` relative to the input.
    var outputStride: Int { get }
    /// Name-substring rules for learning-rate and weight-decay multipliers.
    var optimizerRules: [String: ParamRule] { get }
    /// B,3,H,W -> B,K,H/stride,W/stride.
    func logits(_ x: Tensor) -> Tensor
}

extension SegmentationModel {
    /// Logits upsampled (bilinear, align_corners false) to the input size.
    public func predictLogits(_ x: Tensor) -> Tensor {
        F.interpolate(logits(x), size: (x.size(2), x.size(3)))
    }

    /// Per-pixel class indices B,H,W at the input size.
    public func predict(_ x: Tensor) -> Tensor {
        predictLogits(x).argmax(dim: 1)
    }
}
