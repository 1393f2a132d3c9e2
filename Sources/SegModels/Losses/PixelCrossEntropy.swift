import Torch

/// Cross-entropy on logits upsampled to the label size (mmseg's decode-head loss).
/// `avgNonIgnore` false (mmseg's default) divides the summed loss by ALL pixels, ignored ones included;
/// true divides it by the valid pixels + float32 eps, as mmseg's `weight_reduce_loss(avg_factor:)`, so a
/// batch whose pixels are all ignored gives 0 instead of NaN (which would stop training).
public func segmentationLoss(logits: Tensor, labels: Tensor, ignoreIndex: Int = 255, avgNonIgnore: Bool = false) -> Tensor {
    // NCHW before upsampling: channels-last logits (the encoders keep that layout) would give a channels-last
    // K x H x W map, which log_softmax over the class dimension first copies whole (300 MB at 2 x 150 x 512 x 512).
    let up = F.interpolate(logits.contiguous(), size: (labels.size(1), labels.size(2)))
    let sum = F.crossEntropy(up, labels, ignoreIndex: ignoreIndex, reduction: .sum)
    if avgNonIgnore {
        let valid = (labels .!= Double(ignoreIndex)).sum().to(sum.dtype)
        return sum / (valid + Double(Float.ulpOfOne))
    }
    return sum / Double(labels.count)
}
