import Foundation

/// Writes a state_dict in `torch.save`'s zip format (what `torch.load` and `PyTorchCheckpoint.read` read): an
/// OrderedDict of tensors pickled with protocol 2, each tensor's bytes as its own stored (uncompressed) zip entry.
/// Optionally wrapped as mmengine does (`{"meta": {...}, "state_dict": ...}`) so class names travel with the weights.
public enum PyTorchCheckpointWriter {
    public static func write(_ stateDict: HostTensorDict, classes: [String]? = nil, to url: URL) throws {
        var pickle = PickleWriter()
        var storages: [(name: String, bytes: Data)] = []
        pickle.proto2()
        if let classes {
            pickle.emptyDict()
            pickle.mark()
            pickle.string("meta")
            pickle.emptyDict()
            pickle.string("CLASSES")
            pickle.mark()
            for c in classes { pickle.string(c) }
            pickle.tuple()
            pickle.setItem()
            pickle.string("state_dict")
        }
        pickle.orderedDict()
        pickle.mark()
        for (key, tensor) in stateDict.items {
            let storageKey = String(storages.count)
            storages.append((storageKey, tensor.bytes))
            pickle.string(key)
            pickle.global("torch._utils", "_rebuild_tensor_v2")
            pickle.mark()
            // Persistent id: ('storage', torch.<Type>Storage, key, 'cpu', numel).
            pickle.mark()
            pickle.string("storage")
            pickle.global("torch", storageType(tensor.dtype))
            pickle.string(storageKey)
            pickle.string("cpu")
            pickle.int(tensor.elementCount)
            pickle.tuple()
            pickle.persistentID()
            pickle.int(0)  // storage offset
            pickle.intTuple(tensor.shape)
            pickle.intTuple(contiguousStrides(tensor.shape))
            pickle.bool(false)  // requires_grad
            pickle.orderedDict()  // backward hooks
            pickle.tuple()
            pickle.reduce()
        }
        pickle.setItems()
        if classes != nil { pickle.setItems() }
        pickle.stop()

        let folder = "archive"
        var entries: [(String, Data)] = [("\(folder)/data.pkl", pickle.bytes), ("\(folder)/byteorder", Data("little".utf8))]
        entries += storages.map { ("\(folder)/data/\($0.name)", $0.bytes) }
        entries.append(("\(folder)/version", Data("3\n".utf8)))
        try AtomicFileWriter.write(to: url, operation: "checkpoint") { handle in
            try handle.write(contentsOf: ZipStoreWriter.archive(entries))
        }
    }

    static func storageType(_ dtype: DType) -> String {
        switch dtype {
        case .bool: return "BoolStorage"
        case .uint8: return "ByteStorage"
        case .int8: return "CharStorage"
        case .int16: return "ShortStorage"
        case .int32: return "IntStorage"
        case .int64: return "LongStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .float32: return "FloatStorage"
        case .float64: return "DoubleStorage"
        }
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * max(shape[i + 1], 1) }
        return strides
    }
}

/// The pickle opcodes `torch.save` state_dicts need (protocol 2).
struct PickleWriter {
    private(set) var bytes = Data()

    mutating func proto2() { bytes += [0x80, 0x02] }
    mutating func mark() { bytes.append(UInt8(ascii: "(")) }
    mutating func stop() { bytes.append(UInt8(ascii: ".")) }
    mutating func emptyDict() { bytes.append(UInt8(ascii: "}")) }
    mutating func setItem() { bytes.append(UInt8(ascii: "s")) }
    mutating func setItems() { bytes.append(UInt8(ascii: "u")) }
    mutating func tuple() { bytes.append(UInt8(ascii: "t")) }
    mutating func reduce() { bytes.append(UInt8(ascii: "R")) }
    mutating func persistentID() { bytes.append(UInt8(ascii: "Q")) }
    mutating func bool(_ b: Bool) { bytes.append(b ? 0x88 : 0x89) }

    mutating func global(_ module: String, _ name: String) {
        bytes.append(UInt8(ascii: "c"))
        bytes += Data("\(module)\n\(name)\n".utf8)
    }

    /// `collections.OrderedDict()`.
    mutating func orderedDict() {
        global("collections", "OrderedDict")
        bytes.append(UInt8(ascii: ")"))  // EMPTY_TUPLE
        reduce()
    }

    mutating func string(_ s: String) {
        let utf8 = Data(s.utf8)
        bytes.append(UInt8(ascii: "X"))  // BINUNICODE
        appendLE(UInt32(utf8.count))
        bytes += utf8
    }

    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 {
            bytes += [UInt8(ascii: "K"), UInt8(v)]  // BININT1
        } else if v >= Int(Int32.min) && v <= Int(Int32.max) {
            bytes.append(UInt8(ascii: "J"))  // BININT
            appendLE(UInt32(bitPattern: Int32(v)))
        } else {
            bytes += [0x8a, 8]  // LONG1, 8 bytes little-endian two's complement
            appendLE(UInt64(bitPattern: Int64(v)))
        }
    }

    mutating func intTuple(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }

    private mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }
}

/// A zip archive of stored (uncompressed) entries, as PyTorch writes them; zip64 is not needed below 4 GiB.
enum ZipStoreWriter {
    static func archive(_ entries: [(name: String, data: Data)]) throws -> Data {
        var out = Data()
        var central = Data()
        for (name, data) in entries {
            guard data.count < Int(UInt32.max), out.count < Int(UInt32.max) else {
                throw TorchIOError("checkpoint", "writing .pth files over 4 GiB is not supported; write safetensors instead")
            }
            let nameBytes = Data(name.utf8)
            let crc = CRC32.checksum(data)
            let offset = UInt32(out.count)
            // Local file header.
            out.appendLE(UInt32(0x0403_4b50)); out.appendLE(UInt16(20)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
            out.appendLE(UInt16(0)); out.appendLE(UInt16(0)); out.appendLE(crc); out.appendLE(UInt32(data.count))
            out.appendLE(UInt32(data.count)); out.appendLE(UInt16(nameBytes.count)); out.appendLE(UInt16(0))
            out += nameBytes
            out += data
            // Central directory entry.
            central.appendLE(UInt32(0x0201_4b50)); central.appendLE(UInt16(20)); central.appendLE(UInt16(20))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
            central.appendLE(crc); central.appendLE(UInt32(data.count)); central.appendLE(UInt32(data.count))
            central.appendLE(UInt16(nameBytes.count)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt32(0)); central.appendLE(offset)
            central += nameBytes
        }
        let centralOffset = UInt32(out.count)
        out += central
        // End of central directory.
        out.appendLE(UInt32(0x0605_4b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
        out.appendLE(UInt16(entries.count)); out.appendLE(UInt16(entries.count))
        out.appendLE(UInt32(central.count)); out.appendLE(centralOffset); out.appendLE(UInt16(0))
        return out
    }
}

extension Data {
    fileprivate mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
