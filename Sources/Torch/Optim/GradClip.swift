// Gradient clipping by total norm, as `torch.nn.utils.clip_grad_norm_`.

import Foundation

/// Scales every gradient of `params` in place so that their joint `normType`-norm is at most `maxNorm`, and
/// returns the norm before clipping. As PyTorch: the total is the norm of the per-gradient norms, the
/// coefficient `maxNorm / (total + 1e-6)` is computed in the gradients' dtype and clamped to 1, and every
/// gradient is multiplied by it (also when it is 1). Parameters without a gradient are ignored; with none, 0.
/// `foreach` computes the norms and the scaling with `_foreach_norm` / `_foreach_mul_` per device and dtype
/// (PyTorch's choice on CUDA); on the CPU the result is the same bit for bit.
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Double, normType: Double = 2, foreach: Bool = false) -> Double {
    let grads = params.compactMap { $0.grad }
    guard !grads.isEmpty else { return 0 }
    return Torch.noGrad {
        let batches = foreach ? splitByDeviceAndDType(grads) { $0 } : []
        let norms = foreach ? batches.flatMap { b in Tensor.trap { try Foreach.norm(b, normType) } } : grads.map { $0.norm(normType) }
        let first = grads[0].device
        let total = Tensor.stack(norms.map { $0.to(first) }).norm(normType)
        // Python's `max_norm / tensor` is `tensor.reciprocal() * max_norm`.
        let coefficient = ((total + 1e-6).reciprocal() * maxNorm).clamp(max: 1)
        if foreach {
            for b in batches { Tensor.trap { try Foreach.mul_(b, coefficient.to(b[0].device)) } }
        } else {
            for g in grads { g.mul_(coefficient.to(g.device)) }
        }
        return total.item()
    }
}
