import Torch

/// mmdet's dice loss per row: probabilities and targets N,P (flattened beyond the first dim) -> N.
/// Naive: 1 - (2Σpt + eps) / (Σp + Σt + eps); otherwise 1 - 2Σpt / (Σp² + eps + Σt² + eps).
public func diceLoss(probabilities p: Tensor, targets t: Tensor, eps: Double = 1, naive: Bool = true) -> Tensor {
    let p = p.flatten(start: 1), t = t.flatten(start: 1)
    let a = (p * t).sum(dim: 1)
    if naive {
        return 1 - (a * 2 + eps) / (p.sum(dim: 1) + t.sum(dim: 1) + eps)
    }
    return 1 - a * 2 / ((p * p).sum(dim: 1) + eps + ((t * t).sum(dim: 1) + eps))
}
