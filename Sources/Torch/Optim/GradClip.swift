// Gradient clipping by total norm, as `torch.nn.utils.clip_grad_norm_`.

import Foundation

/// Scales every gradient of `params` in place so that their joint `normType`-norm is at most `maxNorm`, and
/// returns the norm before clipping. As PyTorch: the total is the norm of the per-gradient norms, the
/// coefficient `maxNorm / (total + 1e-6)` is computed in the gradients' dtype and clamped to 1, and every
/// gradient is multiplied by it (also when it is 1). Parameters without a gradient are ignored; with none, 0.
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Double, normType: Double = 2) -> Double {
    let grads = params.compactMap { $0.grad }
    guard !grads.isEmpty else { return 0 }
    return Torch.noGrad {
        let total = Tensor.stack(grads.map { $0.norm(normType) }).norm(normType)
        // Python's `max_norm / tensor` is `tensor.reciprocal() * max_norm`.
        let coefficient = ((total + 1e-6).reciprocal() * maxNorm).clamp(max: 1)
        for g in grads { g.mul_(coefficient.to(g.device)) }
        return total.item()
    }
}
