import Foundation

/// A dense tensor held in host memory as raw little-endian bytes, row-major and contiguous.
/// This is the exchange format of checkpoint readers and writers (safetensors, PyTorch `.pth`):
/// they need no libtorch, and `Tensor(host:)` / `Tensor.host()` cross into libtorch.
public struct HostTensor: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: Data

    public init(dtype: DType, shape: [Int], bytes: Data) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.elementSize,
                     "HostTensor: \(bytes.count) bytes for shape \(shape) of \(dtype)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A named collection of host tensors that keeps its insertion order (state_dict order).
public struct HostTensorDict: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: HostTensor] = [:]

    public init() {}

    public init(_ pairs: [(String, HostTensor)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> HostTensor? {
        get { storage[key] }
        set {
            if let v = newValue {
                if storage.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    public var items: [(key: String, value: HostTensor)] { keys.map { ($0, storage[$0]!) } }
}
