import CTorch

/// Library-wide state: version, seeding, threads, CUDA availability.
public enum Torch {
    /// The libtorch version this build was compiled against (the headers travel with the libraries).
    public static var version: String { String(cString: ts_version()) }

    /// Seeds libtorch's default generators (CPU and CUDA), like `torch.manual_seed`.
    public static func manualSeed(_ seed: UInt64) {
        Tensor.trap { try Tensor.check("manual_seed", ts_manual_seed(seed)) }
    }

    /// Intra-op thread count (`torch.get_num_threads`).
    public static var threads: Int {
        get { Int(ts_get_num_threads()) }
        set { Tensor.trap { try Tensor.check("set_num_threads", ts_set_num_threads(Int32(max(1, newValue)))) } }
    }

    public struct CUDAStatus: Sendable {
        public let isAvailable: Bool
        public let deviceCount: Int
        /// Why CUDA is unavailable, when it is.
        public let reason: String?
    }

    /// CUDA is enabled at start-up when libtorch_cuda.so (beside libtorch_cpu.so) and its CUDA
    /// libraries load; otherwise everything runs on the CPU and `reason` says why.
    public static let cuda: CUDAStatus = {
        var reason: UnsafeMutablePointer<CChar>? = nil
        let ok = ts_cuda_load(&reason) == 1
        var text: String? = nil
        if let r = reason {
            text = String(cString: r)
            ts_string_free(r)
        }
        return CUDAStatus(isAvailable: ok, deviceCount: ok ? Int(ts_cuda_device_count()) : 0, reason: text)
    }()

    /// Waits for queued CUDA work (no-op on CPU).
    public static func synchronize(_ device: Device) {
        if case .cuda(let i) = device { Tensor.trap { try Tensor.check("cuda_synchronize", ts_cuda_synchronize(Int32(i))) } }
    }
}
