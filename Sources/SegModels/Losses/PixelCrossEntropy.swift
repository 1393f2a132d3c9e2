import Torch

/// Cross-entropy on logits upsampled to the label size (mmseg's decode-head loss).
/// `avgNonIgnore` false (mmseg's default) divides the summed loss by ALL pixels, ignored ones included;
/// true divides it by the valid pixels + float32 eps, as mmseg's `weight_reduce_loss(avg_factor:)`, so a
/// batch whose pixels are all ignored gives 0 instead of NaN (which would stop training).
public func segmentationLoss(logits: Tensor, labels: Tensor, ignoreIndex: Int = 255, avgNonIgnore: Bool = false) -> Tensor {
    // On the CPU one fused kernel interpolates each pixel's class scores, reduces them to the loss and, backward,
    // scatters softmax - onehot to the 4 source pixels: no label-sized class map (315 MB at 2 x 150 x 512 x 512) is
    // ever written, which took about 270 ms of a 3 s LRFormer-T step as upsample + log_softmax + their backward.
    let sum = F.upsampledPixelCrossEntropySum(logits, labels, ignoreIndex: ignoreIndex)
    if avgNonIgnore {
        let valid = (labels .!= Double(ignoreIndex)).sum().to(sum.dtype)
        return sum / (valid + Double(Float.ulpOfOne))
    }
    return sum / Double(labels.count)
}
