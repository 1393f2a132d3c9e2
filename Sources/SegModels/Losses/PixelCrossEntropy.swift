import Torch

/// Cross-entropy on logits upsampled to the label size (mmseg's decode-head loss).
/// `avgNonIgnore` false (mmseg's default) divides the summed loss by ALL pixels, ignored ones included;
/// true divides it by the valid pixels + float32 eps, as mmseg's `weight_reduce_loss(avg_factor:)`, so a
/// batch whose pixels are all ignored gives 0 instead of NaN (which would stop training).
public func segmentationLoss(logits: Tensor, labels: Tensor, ignoreIndex: Int = 255, avgNonIgnore: Bool = false) -> Tensor {
    // Channels-last all the way: the upsampled K x H x W map is then, in memory, one row of K class scores per pixel;
    // the upsample and its backward run ATen's channels-last kernels and the cross-entropy works on those rows with
    // no copy of the full-resolution map (over NCHW maps the loss took 2-3x as long: scripts/pytorch-bench/
    // loss_layouts.py), its backward writing softmax - onehot in one pass (F.pixelCrossEntropySum).
    let classes = logits.size(1)
    let up = F.interpolate(logits.contiguous(memoryFormat: .channelsLast), size: (labels.size(1), labels.size(2)))
    let perPixel = up.permute(0, 2, 3, 1).reshape([-1, classes])
    let sum = F.pixelCrossEntropySum(perPixel, labels.reshape([-1]), ignoreIndex: ignoreIndex)
    if avgNonIgnore {
        let valid = (labels .!= Double(ignoreIndex)).sum().to(sum.dtype)
        return sum / (valid + Double(Float.ulpOfOne))
    }
    return sum / Double(labels.count)
}
