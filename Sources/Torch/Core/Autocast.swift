// Automatic mixed precision, as `torch.autocast`: ATen's autocast dispatch keys cast the inputs of eligible ops
// (convolutions, matmuls, linear layers) to a lower precision and keep precision-sensitive ops (softmax, norms,
// losses) in float32, per device type. Weights stay float32 ("master weights") and so do their gradients.

import CTorch
import TorchIO

extension Torch {
    /// Runs `body` with autocast set for `device`'s type (the index is ignored, as in PyTorch), then restores the
    /// previous state; leaving the outermost block clears the cache of casted weights, as `torch.autocast` does.
    /// Nestable: `Torch.autocast(device: d, enabled: false) { ... }` inside a bf16 block runs a float32 head
    /// (cast its input with `.to(.float32)` first). The state is per thread, so `body` runs on the calling
    /// thread; run backward after the block, as PyTorch recommends.
    ///
    /// `dtype` is `.bfloat16` (CPU and CUDA) or `.float16` (CUDA; CPU since PyTorch 2.x, slow). With float16,
    /// scale the loss with a `GradScaler`.
    public static func autocast<R>(device: Device = .cpu, dtype: DType = .bfloat16, enabled: Bool = true, cacheEnabled: Bool = true,
                                   _ body: () throws -> R) rethrows -> R {
        precondition(dtype == .bfloat16 || dtype == .float16, "autocast: dtype must be bfloat16 or float16, got \(dtype)")
        let type = device.typeCode
        let previousEnabled = ts_autocast_is_enabled(type), previousDType = ts_autocast_get_dtype(type)
        let previousCache = ts_autocast_cache_enabled()
        Tensor.trap {
            try Tensor.check("autocast", ts_autocast_set_enabled(type, enabled ? 1 : 0))
            try Tensor.check("autocast", ts_autocast_set_dtype(type, dtype.rawValue))
        }
        _ = ts_autocast_increment_nesting()
        ts_autocast_set_cache_enabled(cacheEnabled ? 1 : 0)
        defer {
            if ts_autocast_decrement_nesting() == 0 { ts_autocast_clear_cache() }
            Tensor.trap {
                try Tensor.check("autocast", ts_autocast_set_enabled(type, previousEnabled))
                if previousDType >= 0 { try Tensor.check("autocast", ts_autocast_set_dtype(type, previousDType)) }
            }
            ts_autocast_set_cache_enabled(previousCache)
        }
        return try body()
    }

    /// Whether autocast is on for `device`'s type on this thread.
    public static func isAutocastEnabled(_ device: Device) -> Bool { ts_autocast_is_enabled(device.typeCode) != 0 }

    /// The lower-precision type autocast uses for `device`'s type on this thread (PyTorch's defaults: bfloat16 on
    /// the CPU, float16 on CUDA).
    public static func autocastDType(_ device: Device) -> DType? { DType(rawValue: ts_autocast_get_dtype(device.typeCode)) }
}
