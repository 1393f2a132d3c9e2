import Torch

// The mask losses of the MaskFormer family (DETR / MaskFormer `criterion.py`, SegViT's copy of it): predicted
// mask logits against binary target masks, one row per matched mask (N, P pixels). Each returns a scalar
// already divided by `numMasks` (the number of target masks in the batch, at least 1).

/// `F.binary_cross_entropy_with_logits(x, t, reduction='none')`, elementwise, in PyTorch's overflow-safe form
/// `(1 - t)·x + m + log(e^-m + e^(-x-m))` with `m = max(-x, 0)` (its gradient is σ(x) - t everywhere, x = 0 included).
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    let m = (-logits).clamp(min: 0)
    return (1 - targets) * logits + m + ((-m).exp() + (-logits - m).exp()).log()
}

/// RetinaNet's sigmoid focal loss: BCE · (1 - p_t)^γ, weighted α for positives and 1 - α for negatives (α < 0: no
/// weighting), averaged over each mask's pixels, summed over masks, divided by `numMasks`.
/// logits, targets: N,P.
public func sigmoidFocalLoss(logits: Tensor, targets: Tensor, numMasks: Double, alpha: Double = 0.25, gamma: Double = 2) -> Tensor {
    let prob = F.sigmoid(logits)
    let ce = binaryCrossEntropyWithLogits(logits, targets)
    let pT = prob * targets + (1 - prob) * (1 - targets)
    var loss = ce * (1 - pT).pow(gamma)
    if alpha >= 0 {
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    }
    return loss.mean(dim: 1).sum() / numMasks
}

/// Dice loss on sigmoid probabilities, `1 - (2·Σ p·t + 1) / (Σ p + Σ t + 1)` per mask, summed over masks, divided by
/// `numMasks`. logits, targets: N,P.
public func diceLoss(logits: Tensor, targets: Tensor, numMasks: Double) -> Tensor {
    let p = F.sigmoid(logits)
    let numerator = 2 * (p * targets).sum(dim: -1)
    let denominator = p.sum(dim: -1) + targets.sum(dim: -1)
    return (1 - (numerator + 1) / (denominator + 1)).sum() / numMasks
}
