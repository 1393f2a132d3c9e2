// CUDA memory figures and switches. Everything here goes through the shim without a link-time dependency on
// libtorch_cuda: without CUDA the memory calls throw (kind .device) and the switches have no effect.

import CTorch
import Foundation

extension Torch {
    /// The CUDA caching allocator's figures for one device, in bytes (`torch.cuda.memory_stats`).
    public struct CUDAMemory: Sendable, Equatable {
        /// Bytes in live tensors (`memory_allocated`).
        public var allocated: Int
        /// Bytes the allocator holds from the driver, live or cached (`memory_reserved`).
        public var reserved: Int
        /// Peaks since the last `resetPeakMemory` (`max_memory_allocated`, `max_memory_reserved`).
        public var peakAllocated: Int
        public var peakReserved: Int
        /// Free and total device memory as the driver sees it (nil when unknown).
        public var free: Int?
        public var total: Int?
        /// Out-of-memory errors the allocator has raised so far.
        public var outOfMemoryCount: Int

        /// "allocated 1.20 GiB, reserved 2.00 GiB, peak 3.10 GiB allocated / 3.50 GiB reserved, 70.1 of 79.6 GiB free".
        public var summary: String {
            func gib(_ b: Int) -> String { String(format: "%.2f GiB", Double(b) / Double(1 << 30)) }
            var s = "allocated \(gib(allocated)), reserved \(gib(reserved)), peak \(gib(peakAllocated)) allocated / \(gib(peakReserved)) reserved"
            if let free, let total { s += ", \(gib(free)) of \(gib(total)) free" }
            return s
        }
    }

    /// Whether cuDNN times several convolution algorithms per input shape and keeps the fastest
    /// (`torch.backends.cudnn.benchmark`). Worth it for fixed-size inference and training; off by default.
    public static var cudnnBenchmark: Bool {
        get { ts_cudnn_benchmark() != 0 }
        set { ts_set_cudnn_benchmark(newValue ? 1 : 0) }
    }

    /// TF32 tensor-core math for float32 work on Ampere and later (`torch.backends.cuda.matmul.allow_tf32`,
    /// `torch.backends.cudnn.allow_tf32`). PyTorch's defaults: matmul off, convolutions on. Parity checks
    /// against float32 references turn both off.
    public struct TF32: Sendable, Equatable {
        public var matmul: Bool
        public var conv: Bool
        public init(matmul: Bool, conv: Bool) {
            self.matmul = matmul
            self.conv = conv
        }
    }

    public static var tf32: TF32 {
        get {
            var m: Int32 = 0, c: Int32 = 0
            ts_allow_tf32(&m, &c)
            return TF32(matmul: m != 0, conv: c != 0)
        }
        set { ts_set_allow_tf32(newValue.matmul ? 1 : 0, newValue.conv ? 1 : 0) }
    }
}

extension Torch.CUDAStatus {
    /// The caching allocator's figures for `device`.
    public func memory(device: Int) throws -> Torch.CUDAMemory {
        try requireDevice(device, "cuda_memory_stats")
        var v = [Int64](repeating: 0, count: 7)
        try Tensor.check("cuda_memory_stats", ts_cuda_memory_stats(Int32(device), &v))
        return Torch.CUDAMemory(allocated: Int(v[0]), reserved: Int(v[1]), peakAllocated: Int(v[2]), peakReserved: Int(v[3]),
                                free: v[4] >= 0 ? Int(v[4]) : nil, total: v[5] >= 0 ? Int(v[5]) : nil, outOfMemoryCount: Int(v[6]))
    }

    /// Starts a new peak window for `device` (`torch.cuda.reset_peak_memory_stats`).
    public func resetPeakMemory(device: Int) throws {
        try requireDevice(device, "cuda_reset_peak_memory")
        try Tensor.check("cuda_reset_peak_memory", ts_cuda_reset_peak_memory(Int32(device)))
    }

    /// Returns cached, unused blocks to the driver (`torch.cuda.empty_cache`), e.g. after an out-of-memory error.
    public func emptyCache() throws {
        guard isAvailable else { throw unavailable("cuda_empty_cache") }
        try Tensor.check("cuda_empty_cache", ts_cuda_empty_cache())
    }

    func requireDevice(_ device: Int, _ op: String) throws {
        guard isAvailable else { throw unavailable(op) }
        guard device >= 0 && device < deviceCount else {
            throw TorchError(op, "cuda:\(device) requested but only \(deviceCount) CUDA device(s) exist", kind: .device)
        }
    }

    func unavailable(_ op: String) -> TorchError {
        TorchError(op, "CUDA is unavailable: \(reason ?? "unknown reason")", kind: .device)
    }
}
