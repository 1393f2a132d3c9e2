import CTorch

extension Torch {
    /// Keeps freed tensor memory in the process instead of returning it to the kernel, so the next forward
    /// pass reuses warm pages instead of page-faulting fresh ones (glibc serves blocks above 128 KB with mmap
    /// and unmaps them on free). This is what jemalloc with purging disabled does for PyTorch (the PyTorch CPU
    /// tuning guide's advice); here it needs no preload. The cost: the resident set keeps its peak.
    public static func keepFreedMemory() {
        ts_keep_freed_memory()
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
