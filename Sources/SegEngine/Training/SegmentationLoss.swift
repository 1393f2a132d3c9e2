import Torch

/// Cross-entropy on logits upsampled to the label size (mmseg's decode-head loss).
/// `avgNonIgnore` false (mmseg's default) divides the summed loss by ALL pixels, ignored ones included.
public func segmentationLoss(logits: Tensor, labels: Tensor, ignoreIndex: Int = 255, avgNonIgnore: Bool = false) -> Tensor {
    let up = F.interpolate(logits, size: (labels.size(1), labels.size(2)))
    if avgNonIgnore {
        return F.crossEntropy(up, labels, ignoreIndex: ignoreIndex, reduction: .mean)
    }
    return F.crossEntropy(up, labels, ignoreIndex: ignoreIndex, reduction: .sum) / Double(labels.count)
}
