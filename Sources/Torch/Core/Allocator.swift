import CTorch
import Foundation

extension Torch {
    /// Keeps freed tensor memory in the process instead of returning it to the kernel, so the next forward
    /// pass reuses warm pages instead of page-faulting fresh ones (glibc serves blocks above 128 KB with mmap
    /// and unmaps them on free). This is what jemalloc with purging disabled does for PyTorch (the PyTorch CPU
    /// tuning guide's advice); here it needs no preload. The cost: the resident set keeps its peak.
    ///
    /// Blocks larger than `threshold` (default 1 GiB) keep their own mappings. Keeping the large ones matters for
    /// training: a 512x512 batch's upsampled logits and their gradients are 300 MB each, and with a 64 MiB threshold
    /// an LRFormer-T step took 17% longer (mapping and faulting them in every step).
    public static func keepFreedMemory(upTo threshold: Int = 1 << 30) {
        ts_keep_freed_memory(Int64(threshold))
    }
}

extension Torch {
    /// Treats denormal floats as zero (`torch.set_flush_denormal(True)`). Training drives some values into
    /// the denormal range, where x86 arithmetic is ~100x slower; segmentation accuracy is unaffected.
    /// Call before libtorch starts its worker threads: they inherit the calling thread's mode.
    @discardableResult
    public static func flushDenormals(_ on: Bool = true) -> Bool {
        ts_set_flush_denormal(on ? 1 : 0) == 1
    }
}

extension Torch {
    /// The environment variable oneDNN reads for its primitive cache capacity (its default: 1024 primitives).
    public static let primitiveCacheVariable = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"

    /// Bounds oneDNN's cache of compiled primitives (convolution and matmul kernels, one per input shape) at
    /// `capacity`, unless ONEDNN_PRIMITIVE_CACHE_CAPACITY is set already. With images of many sizes the default
    /// 1024 entries keep growing the resident set by hundreds of MB; a model at one size needs a few dozen.
    /// oneDNN reads the variable when it first builds a primitive, so call this before the first op; libtorch_cpu
    /// does not export `dnnl_set_primitive_cache_capacity`. Returns the capacity in force.
    @discardableResult
    public static func boundPrimitiveCache(_ capacity: Int) -> Int {
        if let given = ProcessInfo.processInfo.environment[primitiveCacheVariable], let value = Int(given) { return value }
        setenv(primitiveCacheVariable, String(capacity), 0)
        return capacity
    }
}
