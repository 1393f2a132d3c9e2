import CTorch
import Foundation
import TorchIO

/// Element types that Swift arrays can hold and libtorch can take directly.
public protocol TensorElement {
    static var dtype: DType { get }
}
extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }

extension Tensor {
    // MARK: - factories (throwing forms live in Tensor.Checked)

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.zeros(shape, dtype: dtype, device: device) }
    }
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.ones(shape, dtype: dtype, device: device) }
    }
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.full(shape, value, dtype: dtype, device: device) }
    }
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.empty(shape, dtype: dtype, device: device) }
    }
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        trap { try Checked.arange(start, end, step: step, dtype: dtype, device: device) }
    }
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.linspace(start, end, steps: steps, dtype: dtype, device: device) }
    }
    /// Uniform on [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.rand(shape, dtype: dtype, device: device) }
    }
    /// Standard normal.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        trap { try Checked.randn(shape, dtype: dtype, device: device) }
    }
    /// Integers uniform on [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        trap { try Checked.randint(low, high, shape, dtype: dtype, device: device) }
    }

    /// A CPU tensor holding a copy of `values`, shaped `shape` (default: 1-D).
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) {
        self.init(owning: Tensor.trap { try Tensor.rawHandle(values, shape: shape) })
    }

    /// A CPU tensor from host bytes (checkpoint data).
    public convenience init(host: HostTensor) throws {
        let handle = try host.bytes.withUnsafeBytes { raw in
            try Tensor.rawHandle(op: "from_host", raw, shape: host.shape, dtype: host.dtype)
        }
        self.init(owning: handle)
    }

    /// A zero-dimensional tensor.
    public static func scalar(_ value: Double, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        full([], value, dtype: dtype, device: device)
    }

    static func rawHandle<T: TensorElement>(_ values: [T], shape: [Int]?) throws -> ts_tensor {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TorchError("from_array", "\(values.count) values cannot fill shape \(shape)")
        }
        return try values.withUnsafeBytes { try rawHandle(op: "from_array", $0, shape: shape, dtype: T.dtype) }
    }

    static func rawHandle(op: String, _ raw: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws -> ts_tensor {
        var out: ts_tensor? = nil
        try withInt64s(shape) { s, n in
            try check(op, ts_from_data(raw.baseAddress, raw.count, s, n, dtype.rawValue, &out))
        }
        guard let h = out else { throw TorchError(op, "no result") }
        return h
    }

    // MARK: - reading back

    /// The tensor's elements as a Swift array (converted to `T`'s dtype first when needed).
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) -> [T] {
        Tensor.trap { try checked.toArray(T.self) }
    }

    /// Contiguous host bytes of the tensor, for checkpoint writers.
    public func host() throws -> HostTensor {
        try checked.host()
    }

    /// The single value of a one-element tensor.
    public func item() -> Double { Tensor.trap { try checked.item() } }
    public func itemInt() -> Int { Tensor.trap { try checked.itemInt() } }
}
