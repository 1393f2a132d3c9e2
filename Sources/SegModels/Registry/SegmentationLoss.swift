import Torch

/// What a model's training forward gives its family's loss.
public struct SegmentationOutputs {
    /// Per-pixel class logits B,K,h,w at the model's stride (per-pixel cross-entropy families).
    public var logits: Tensor?
    /// Mask classification (SegViT, Mask2Former): the final prediction first, then the auxiliary ones.
    public var maskPredictions: [MaskPrediction]

    public init(logits: Tensor? = nil, maskPredictions: [MaskPrediction] = []) {
        self.logits = logits
        self.maskPredictions = maskPredictions
    }
}

/// One set of query predictions: class logits B,Q,K+1 (the last column is "no object") and mask logits B,Q,h,w.
public struct MaskPrediction {
    public var classLogits: Tensor
    public var maskLogits: Tensor

    public init(classLogits: Tensor, maskLogits: Tensor) {
        self.classLogits = classLogits
        self.maskLogits = maskLogits
    }
}

/// The user-settable part of a loss.
public struct LossOptions: Equatable, Sendable {
    public var ignoreIndex: Int
    /// Per-pixel cross-entropy: false (mmseg's default) divides the summed loss by all pixels, ignored ones included;
    /// true by the valid pixels only.
    public var avgNonIgnore: Bool

    public init(ignoreIndex: Int = 255, avgNonIgnore: Bool = false) {
        self.ignoreIndex = ignoreIndex
        self.avgNonIgnore = avgNonIgnore
    }
}

/// A loss value with its named terms (for the log), `total` being what is back-propagated.
public struct LossValue {
    public var total: Tensor
    public var terms: [(name: String, value: Tensor)]

    public init(total: Tensor, terms: [(name: String, value: Tensor)] = []) {
        self.total = total
        self.terms = terms
    }
}

/// A family's training loss: model outputs and labels B,H,W (int64, `ignoreIndex` for unlabelled pixels) in,
/// a scalar out.
public struct SegmentationLoss: Sendable {
    public let name: String
    public let compute: @Sendable (SegmentationOutputs, Tensor, LossOptions) -> LossValue

    public init(name: String, compute: @escaping @Sendable (SegmentationOutputs, Tensor, LossOptions) -> LossValue) {
        self.name = name
        self.compute = compute
    }

    public func callAsFunction(_ outputs: SegmentationOutputs, labels: Tensor, options: LossOptions = LossOptions()) -> LossValue {
        compute(outputs, labels, options)
    }

    /// mmseg's decode-head loss: cross-entropy of the logits upsampled to the label size.
    public static let pixelCrossEntropy = SegmentationLoss(name: "cross-entropy") { outputs, labels, options in
        guard let logits = outputs.logits else { preconditionFailure("pixel cross-entropy needs per-pixel logits") }
        let loss = segmentationLoss(logits: logits, labels: labels, ignoreIndex: options.ignoreIndex, avgNonIgnore: options.avgNonIgnore)
        return LossValue(total: loss, terms: [("loss_ce", loss)])
    }
}
