import Torch

/// What every segmentation model in SwiftSeg offers: logits at its own stride, prediction at input size,
/// and the outputs its family's loss trains on.
public protocol SegmentationModel: Module {
    var name: String { get }
    var numClasses: Int { get }
    /// Stride of `logits` relative to the input.
    var outputStride: Int { get }
    /// State-dict key of the classifier weight (its first dimension is the class count + `classifierExtraRows`).
    var classifierKey: String { get }
    /// Rows of the classifier weight that are not classes (Mask2Former's "no object"); 0 by default.
    var classifierExtraRows: Int { get }
    /// B,3,H,W -> class scores B,K,H/stride,W/stride (mask-classification models: their semantic inference).
    func logits(_ x: Tensor) -> Tensor
    /// What the family's loss needs (per-pixel logits by default).
    func trainingOutputs(_ x: Tensor) -> SegmentationOutputs
    /// Class scores at the input size (by default `logits` upsampled bilinearly).
    func predictLogits(_ x: Tensor) -> Tensor
    /// State-dict keys of weights the official checkpoints carry but the forward pass never uses (AFFormer's
    /// `decode_head.align`): loaded and saved like the others, and reported as unused (none by default).
    var unusedParameterKeys: [String] { get }
}

extension SegmentationModel {
    public var classifierExtraRows: Int { 0 }

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
