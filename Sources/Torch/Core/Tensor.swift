import CTorch
import Foundation
import TorchIO

/// A libtorch tensor. Each instance owns exactly one handle and frees it in `deinit`.
/// Operations return new tensors; in-place operations are explicit (suffix `_`).
public final class Tensor: @unchecked Sendable {
    private(set) var handle: ts_tensor

    init(owning handle: ts_tensor) {
        self.handle = handle
    }

    deinit {
        ts_free(handle)
    }

    // MARK: - error plumbing

    /// Turns a shim error into a thrown `TorchError` naming the operation.
    @inline(__always)
    static func check(_ op: String, _ err: ts_error?) throws {
        if let e = err { throw error(op, e) }
    }

    /// Takes ownership of a shim error and returns it as a `TorchError`.
    static func error(_ op: String, _ e: ts_error) -> TorchError {
        defer { ts_error_free(e) }
        return TorchError(op, String(cString: ts_error_message(e)), kind: TorchError.Kind(ts_error_get_kind(e)))
    }

    /// Runs a shim call that produces one tensor.
    @inline(__always)
    static func make(_ op: String, _ body: (UnsafeMutablePointer<ts_tensor?>) -> ts_error?) throws -> Tensor {
        var out: ts_tensor? = nil
        try check(op, body(&out))
        guard let h = out else { throw TorchError(op, "no result") }
        return Tensor(owning: h)
    }

    /// The convenient, non-throwing form used inside model code: a failure here is a programmer
    /// error (shapes are validated at the boundary), so it traps with the op name and libtorch's message.
    /// Running out of memory is not a programmer error: inside `Torch.catchingOutOfMemory` it is recorded
    /// and the code runs on to that boundary, which throws it (see OutOfMemory.swift).
    @inline(__always)
    static func trap<T>(_ body: () throws -> T) -> T {
        do {
            return try body()
        } catch {
            return OutOfMemoryScope.recover(from: error, body)
        }
    }

    // MARK: - properties

    public var rank: Int { Int(ts_dim(handle)) }

    public var shape: [Int] {
        var dims = [Int64](repeating: 0, count: rank)
        ts_sizes(handle, &dims)
        return dims.map { Int($0) }
    }

    public var strides: [Int] {
        var s = [Int64](repeating: 0, count: rank)
        ts_strides(handle, &s)
        return s.map { Int($0) }
    }

    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    public var dtype: DType { DType(rawValue: ts_dtype(handle)) ?? .float32 }
    public var device: Device { Device(typeCode: ts_device_type(handle), index: ts_device_index(handle)) }
    public var count: Int { Int(ts_numel(handle)) }
    public var isContiguous: Bool { ts_is_contiguous(handle) != 0 }
    public func isContiguous(memoryFormat: MemoryFormat) -> Bool { ts_is_contiguous_format(handle, memoryFormat.rawValue) != 0 }
    /// Whether this is a page-locked host tensor (`is_pinned()`); false when unknown.
    public var isPinned: Bool { ts_is_pinned(handle) != 0 }

    /// `print(tensor)` shows libtorch's rendering.
    public var text: String {
        var out: UnsafeMutablePointer<CChar>? = nil
        if let e = ts_to_string(handle, &out) { ts_error_free(e) }
        guard let o = out else { return "Tensor(\(shape), \(dtype))" }
        defer { ts_string_free(o) }
        return String(cString: o)
    }
}

/// How a 4-D (5-D) tensor's elements are ordered in memory (c10::MemoryFormat).
public enum MemoryFormat: Int32, Sendable {
    /// Row-major NCHW, PyTorch's default.
    case contiguous = 0
    /// Keep the input's format (for conversions).
    case preserve = 1
    /// NHWC in memory with NCHW sizes: what cuDNN's fastest convolutions and tensor cores want.
    case channelsLast = 2
    case channelsLast3d = 3
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(shape: \(shape), dtype: \(dtype), device: \(device))" }
}

// MARK: - helpers for integer lists

@inline(__always)
func withInt64s<R>(_ values: [Int], _ body: (UnsafePointer<Int64>, Int32) throws -> R) rethrows -> R {
    let v = values.map { Int64($0) }
    return try v.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, Int32(v.count)) }
}

@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<ts_tensor?>, Int32) throws -> R) rethrows -> R {
    let hs: [ts_tensor?] = tensors.map { $0.handle }
    return try withExtendedLifetime(tensors) {
        try hs.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, Int32(hs.count)) }
    }
}

extension Tensor {
    /// Makes this object refer to `other`'s tensor (sharing its storage) and releases the old one.
    /// Modules use it to move or convert their parameters in place, so layers keep their references.
    public func assign(_ other: Tensor) {
        var out: ts_tensor? = nil
        Tensor.trap { try Tensor.check("assign", ts_shallow_clone(other.handle, &out)) }
        ts_free(handle)
        handle = out!
    }
}
