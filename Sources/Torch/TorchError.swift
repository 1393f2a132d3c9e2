import CTorch

/// Every failure the Torch layer reports: libtorch's message (without its C++ backtrace), the
/// operation that raised it, what kind of failure it is, or a problem with user-supplied data (files,
/// checkpoints, shapes).
public struct TorchError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as the C shim classifies libtorch's exceptions.
    public enum Kind: String, Sendable, Equatable {
        /// A CUDA or CPU allocation failed (c10::OutOfMemoryError, the CPU allocator, std::bad_alloc).
        case outOfMemory
        /// A bad index, value or dtype (c10::IndexError, ValueError, TypeError).
        case value
        /// The device failed or is missing (c10::AcceleratorError, no accelerator, tensors on different devices).
        case device
        /// Everything else, including most shape checks and errors found by the Swift layer itself.
        case other
    }

    public let operation: String
    public let message: String
    public let kind: Kind

    public init(_ operation: String, _ message: String, kind: Kind = .other) {
        self.operation = operation
        self.message = message
        self.kind = kind
    }

    /// What to try after running out of memory (nil for other kinds).
    public var hint: String? {
        guard kind == .outOfMemory else { return nil }
        return "Out of memory. Try a smaller batch or crop size, sliding-window inference for large images, "
            + "or bf16 mixed precision (autocast)."
    }

    public var description: String {
        if let hint { return "\(operation): \(message)\n\(hint)" }
        return "\(operation): \(message)"
    }
}

extension TorchError.Kind {
    init(_ kind: ts_error_kind) {
        switch kind {
        case TS_ERROR_OUT_OF_MEMORY: self = .outOfMemory
        case TS_ERROR_VALUE: self = .value
        case TS_ERROR_DEVICE: self = .device
        default: self = .other
        }
    }
}
