import Foundation

/// A storage named by a `torch.save` persistent id. Its bytes live elsewhere (the zip entry
/// `<archive>/data/<key>`, or the legacy format's trailing storage records).
struct TorchStorageRef {
    let key: String
    /// The storage class (`torch.FloatStorage`), kept for messages about unsupported types.
    let typeName: String
    /// nil for storage types this reader does not support (complex, quantized).
    let dtype: DType?
    /// Where this storage starts inside its root storage, in elements (legacy views), else 0.
    let elementOffset: Int
    /// The storage's element count as the persistent id declares it, when it does.
    let elementCount: Int?

    /// Element type of a storage class: `torch.FloatStorage`, `torch.cuda.HalfStorage`, `torch.UntypedStorage`.
    static func dtype(storageType name: String) -> DType? {
        switch name {
        case "BoolStorage": return .bool
        case "ByteStorage", "UntypedStorage": return .uint8
        case "CharStorage": return .int8
        case "ShortStorage": return .int16
        case "IntStorage": return .int32
        case "LongStorage": return .int64
        case "HalfStorage": return .float16
        case "BFloat16Storage": return .bfloat16
        case "FloatStorage": return .float32
        case "DoubleStorage": return .float64
        default: return nil
        }
    }
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a view (offset, shape, strides in
/// elements) into a storage.
struct TorchTensorRef {
    let storage: TorchStorageRef
    let storageOffset: Int
    let shape: [Int]
    let stride: [Int]

    /// Copies the viewed elements out of `storageBytes` (the root storage's bytes) into a
    /// contiguous row-major tensor. Every index is checked against the bytes first.
    func materialize(storageBytes: Data, fail: (String) -> TorchIOError) throws -> HostTensor {
        guard let dtype = storage.dtype else { throw fail("storage type \(storage.typeName) is not supported") }
        guard shape.count == stride.count else { throw fail("shape \(shape) and strides \(stride) differ in rank") }
        guard storageOffset >= 0, stride.allSatisfy({ $0 >= 0 }) else { throw fail("negative storage offset or stride") }
        guard let count = checkedElementCount(shape) else { throw fail("invalid shape \(shape)") }
        let elementSize = dtype.elementSize
        if count == 0 { return HostTensor(dtype: dtype, shape: shape, bytes: Data()) }

        // Last element reached by the view, overflow-checked: offset + sum((size - 1) * stride).
        var last = storage.elementOffset
        var overflow = false
        func add(_ value: Int) {
            let (sum, o) = last.addingReportingOverflow(value)
            last = sum
            overflow = overflow || o
        }
        add(storageOffset)
        for (size, step) in zip(shape, stride) {
            let (span, o) = (size - 1).multipliedReportingOverflow(by: step)
            overflow = overflow || o
            add(span)
        }
        let available = storageBytes.count / elementSize
        guard !overflow, last < available else {
            throw fail("view (offset \(storageOffset), shape \(shape), strides \(stride)) reaches past the storage's \(available) elements")
        }
        if let declared = storage.elementCount, declared >= 0, last - storage.elementOffset >= declared {
            throw fail("view (offset \(storageOffset), shape \(shape), strides \(stride)) reaches past the declared \(declared) storage elements")
        }

        let base = storage.elementOffset + storageOffset
        if isContiguous {
            let start = storageBytes.startIndex + base * elementSize
            return HostTensor(dtype: dtype, shape: shape, bytes: storageBytes.subdata(in: start ..< start + count * elementSize))
        }
        return HostTensor(dtype: dtype, shape: shape, bytes: gather(storageBytes, base: base, count: count, elementSize: elementSize))
    }

    /// Row-major strides, ignoring dimensions of size 1 (their stride is arbitrary in PyTorch).
    private var isContiguous: Bool {
        var expected = 1
        for (size, step) in zip(shape, stride).reversed() where size != 1 {
            if step != expected { return false }
            expected *= size
        }
        return true
    }

    /// Strided copy: walks the output in row-major order, copying one innermost row at a time
    /// when it is dense and one element at a time otherwise. Bounds were checked by the caller.
    private func gather(_ source: Data, base: Int, count: Int, elementSize: Int) -> Data {
        var output = Data(count: count * elementSize)
        let rank = shape.count
        let innerSize = shape[rank - 1]
        let innerStride = stride[rank - 1]
        let rows = count / innerSize
        source.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            output.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
                guard let srcBase = src.baseAddress, let dstBase = dst.baseAddress else { return }
                var index = [Int](repeating: 0, count: rank)  // multi-index of the current row
                var rowStart = base
                for row in 0 ..< rows {
                    let out = dstBase + row * innerSize * elementSize
                    if innerStride == 1 {
                        out.copyMemory(from: srcBase + rowStart * elementSize, byteCount: innerSize * elementSize)
                    } else {
                        for i in 0 ..< innerSize {
                            (out + i * elementSize).copyMemory(from: srcBase + (rowStart + i * innerStride) * elementSize,
                                                               byteCount: elementSize)
                        }
                    }
                    // Advance the outer multi-index like an odometer.
                    var dim = rank - 2
                    while dim >= 0 {
                        index[dim] += 1
                        rowStart += stride[dim]
                        if index[dim] < shape[dim] { break }
                        rowStart -= stride[dim] * shape[dim]
                        index[dim] = 0
                        dim -= 1
                    }
                }
            }
        }
        return output
    }
}
