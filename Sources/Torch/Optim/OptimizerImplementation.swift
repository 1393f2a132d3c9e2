// How an optimizer applies its update: torch.optim's `foreach` and `fused` flags. All three compute the same
// update rule; they differ in how many kernels they launch (and, for fused kernels, in rounding).

/// The implementation of `AdamW.step()` / `SGD.step()`.
public enum OptimizerImplementation: String, Sendable, CaseIterable, Codable {
    /// A sequence of small ops per parameter (`foreach=False`). The reference: equal to PyTorch's single-tensor
    /// trajectories bit for bit.
    case singleTensor
    /// ATen's `_foreach_*` ops over each parameter group's tensors, split by device and dtype (`foreach=True`,
    /// PyTorch's default on CUDA). On the CPU bit-identical to `singleTensor`.
    case foreach
    /// One fused kernel (`torch._fused_adamw_`, `torch._fused_sgd_`) per group, device and dtype (`fused=True`;
    /// CPU and CUDA). Rounds differently from the other two (within ~1e-7 relative per step in float32); with a
    /// `GradScaler` it unscales and skips inf/NaN steps on the device, without a host sync.
    case fused

    /// PyTorch's default (`_default_to_fused_or_foreach`): foreach when every parameter is on CUDA, else single-tensor.
    public static func defaultChoice(for params: [Tensor]) -> OptimizerImplementation {
        !params.isEmpty && params.allSatisfy { $0.device.isCUDA } ? .foreach : .singleTensor
    }
}

/// Optimizers whose fused kernels take GradScaler's scale and inf flag (PyTorch's `_step_supports_amp_scaling`).
protocol AmpScalingOptimizer: Optimizer {
    /// True when `step(gradScale:foundInf:)` unscales in the kernel (the fused implementation).
    var supportsAmpScaling: Bool { get }
    /// One update with gradients still multiplied by `gradScale` (nil: already unscaled); skipped on the
    /// device when `foundInf` (a one-element float tensor) is 1.
    func step(gradScale: Tensor?, foundInf: Tensor?)
}

/// One parameter with its gradient, as a step sees it.
struct GradientItem {
    let param: Tensor
    let grad: Tensor
}

extension Optimizer {
    /// Each group's parameters that have a gradient, in order.
    func gradientsByGroup() -> [[GradientItem]] {
        groups.map { g in g.params.compactMap { p in p.grad.map { GradientItem(param: p, grad: $0) } } }
    }
}

/// Splits `items` by (device, dtype), keeping first-appearance order, as PyTorch's
/// `_group_tensors_by_device_and_dtype` does before each foreach or fused call.
func splitByDeviceAndDType<T>(_ items: [T], _ tensor: (T) -> Tensor) -> [[T]] {
    var order: [String] = []
    var buckets: [String: [T]] = [:]
    for item in items {
        let t = tensor(item)
        let key = "\(t.device)/\(t.dtype)"
        if buckets[key] == nil { order.append(key) }
        buckets[key, default: []].append(item)
    }
    return order.map { buckets[$0]! }
}

/// A zero tensor with `p`'s size, dtype, device and strides (`torch.zeros_like(p, memory_format=torch.preserve_format)`),
/// so optimizer state follows a channels-last parameter's layout, as the fused kernels require.
func zerosLike(_ p: Tensor) -> Tensor {
    let z = p.detach().clone()
    z.zero_()
    return z
}
