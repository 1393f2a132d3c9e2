import Torch

/// What every segmentation model in SwiftSeg offers: logits at its own stride, prediction at input size,
/// and the outputs its family's loss trains on.
public protocol SegmentationModel: Module {
    var name: String { get }
    var numClasses: Int { get }
    /// Stride of `logits` relative to the input.
    var outputStride: Int { get }
    /// State-dict key of the classifier weight (its first dimension is the class count).
    var classifierKey: String { get }
    /// B,3,H,W -> class scores B,K,H/stride,W/stride (mask-classification models: their semantic inference).
    func logits(_ x: Tensor) -> Tensor
    /// What the family's loss needs (per-pixel logits by default).
    func trainingOutputs(_ x: Tensor) -> SegmentationOutputs
    /// State-dict keys of weights the official checkpoints carry but the forward pass never uses (AFFormer's
    /// `decode_head.align`): loaded and saved like the others, and reported as unused (none by default).
    var unusedParameterKeys: [String] { get }
}

extension SegmentationModel {
    public var unusedParameterKeys: [String] { [] }

    public func trainingOutputs(_ x: Tensor) -> SegmentationOutputs { SegmentationOutputs(logits: logits(x)) }

    /// Logits upsampled (bilinear, align_corners false) to the input size.
    public func predictLogits(_ x: Tensor) -> Tensor {
        F.interpolate(logits(x), size: (x.size(2), x.size(3)))
    }

    /// Per-pixel class indices B,H,W at the input size.
    public func predict(_ x: Tensor) -> Tensor {
        predictLogits(x).argmax(dim: 1)
    }
}
