import Foundation

/// Reads and writes the safetensors format (huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`
/// and the tensors' raw little-endian bytes, offsets relative to the end of the header.
public enum SafeTensors {
    /// Reads every tensor, in data-offset order (the order the writer stored them in, which for
    /// our writer is the dict's order). The file is memory-mapped; each tensor gets its own copy.
    public static func read(_ url: URL) throws -> HostTensorDict {
        let file = try SafeTensorsFile(url)
        var dict = HostTensorDict()
        for entry in file.entries {
            let start = file.dataStart + entry.begin
            // Copy out of the mapping: the result must not depend on the file staying unchanged.
            dict[entry.name] = HostTensor(dtype: entry.dtype, shape: entry.shape,
                                          bytes: file.data.subdata(in: start ..< start + entry.end - entry.begin))
        }
        return dict
    }

    /// The header's `__metadata__` string map (empty when the file has none).
    public static func readMetadata(_ url: URL) throws -> [String: String] {
        try SafeTensorsFile(url).metadata
    }

    /// Writes `dict` in its order (header keys in the same order) with optional metadata, to a
    /// temporary file in the destination folder that is then renamed over `url`, so readers never
    /// see a half-written file.
    public static func write(_ dict: HostTensorDict, metadata: [String: String]? = nil, to url: URL) throws {
        let header = try headerBytes(dict, metadata: metadata)
        var lengthBytes = Data(count: 8)
        lengthBytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(header.count).littleEndian, as: UInt64.self) }
        try AtomicFileWriter.write(to: url, operation: "safetensors") { handle in
            try handle.write(contentsOf: lengthBytes)
            try handle.write(contentsOf: header)
            for (_, tensor) in dict.items { try handle.write(contentsOf: tensor.bytes) }
        }
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes as the Python writer does, so
    /// that the data section starts aligned.
    static func headerBytes(_ dict: HostTensorDict, metadata: [String: String]?) throws -> Data {
        var members: [String] = []
        if let metadata {
            // Sorted, so that equal inputs give byte-identical files.
            let pairs = metadata.keys.sorted().map { "\(jsonQuoted($0)):\(jsonQuoted(metadata[$0] ?? ""))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in dict.items {
            guard name != "__metadata__" else {
                throw TorchIOError("safetensors", "a tensor may not be named __metadata__ (reserved by the format)")
            }
            let end = offset + tensor.bytes.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append("\(jsonQuoted(name)):{\"dtype\":\"\(safetensorsName(tensor.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Data("{\(members.joined(separator: ","))}".utf8)
        let padding = (8 - header.count % 8) % 8
        header.append(contentsOf: [UInt8](repeating: 0x20, count: padding))
        return header
    }

    static func safetensorsName(_ dtype: DType) -> String {
        switch dtype {
        case .bool: return "BOOL"
        case .uint8: return "U8"
        case .int8: return "I8"
        case .int16: return "I16"
        case .int32: return "I32"
        case .int64: return "I64"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .float32: return "F32"
        case .float64: return "F64"
        }
    }

    static func dtype(safetensorsName name: String) -> DType? {
        DType.allCases.first { safetensorsName($0) == name }
    }
}

/// A validated view of a safetensors file: header parsed, every entry checked against the file.
struct SafeTensorsFile {
    struct Entry {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// Same limit as the Python/Rust reader: a larger header is a corrupt file, not a real one.
    static let maxHeaderLength = 100_000_000

    let data: Data
    let dataStart: Int
    let entries: [Entry]
    let metadata: [String: String]

    init(_ url: URL) throws {
        let fileName = url.path  // messages name the whole path
        func fail(_ message: String) -> TorchIOError { TorchIOError("safetensors", "\(fileName): \(message)") }

        if let problem = FileAccess.readProblem(url) { throw fail("cannot read: \(problem)") }
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw fail("cannot read: \(FileAccess.reason(error))")
        }
        guard let rawLength = data.littleEndian(UInt64.self, at: 0) else {
            throw fail("file is \(data.count) bytes, too short for the 8-byte header length")
        }
        guard rawLength <= UInt64(Self.maxHeaderLength) else {
            throw fail("header length \(rawLength) is larger than the \(Self.maxHeaderLength)-byte limit (corrupt or not a safetensors file)")
        }
        let headerLength = Int(rawLength)
        guard let headerBytes = data.bytes(at: 8, length: headerLength) else {
            throw fail("header length \(headerLength) runs past the end of the \(data.count)-byte file")
        }
        dataStart = 8 + headerLength
        let dataLength = data.count - dataStart

        let header: JSONValue
        do {
            header = try JSONValue.parse(headerBytes)
        } catch {
            throw fail("header is not valid JSON (\(error))")
        }
        guard let members = header.objectValue else { throw fail("header is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw fail("tensor '\(name)' appears twice in the header") }
            if name == "__metadata__" {
                guard let pairs = value.objectValue else { throw fail("__metadata__ is not an object") }
                for (key, item) in pairs {
                    guard let text = item.stringValue else { throw fail("__metadata__ value for '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            entries.append(try Self.entry(name, value, dataLength: dataLength, fail: fail))
        }

        // Data-offset order is the writer's order (the JSON key order may be sorted by name).
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for (previous, next) in zip(entries, entries.dropFirst()) where next.begin < previous.end {
            throw fail("tensors '\(previous.name)' and '\(next.name)' overlap in the data section")
        }
        self.entries = entries
        self.metadata = metadata
    }

    private static func entry(_ name: String, _ value: JSONValue, dataLength: Int,
                              fail: (String) -> TorchIOError) throws -> Entry {
        guard let fields = value.objectValue else { throw fail("tensor '\(name)': entry is not an object") }
        func field(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }

        guard let dtypeName = field("dtype")?.stringValue else { throw fail("tensor '\(name)': missing dtype") }
        guard let dtype = SafeTensors.dtype(safetensorsName: dtypeName) else {
            throw fail("tensor '\(name)': unsupported dtype '\(dtypeName)' (supported: F16, BF16, F32, F64, I64, I32, I16, I8, U8, BOOL)")
        }
        guard let shapeValues = field("shape")?.arrayValue else { throw fail("tensor '\(name)': missing shape") }
        let shape = shapeValues.compactMap { $0.intValue }
        guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("tensor '\(name)': shape must be a list of non-negative integers")
        }
        guard let offsets = field("data_offsets")?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue
        else { throw fail("tensor '\(name)': data_offsets must be two integers") }
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] lie outside the \(dataLength)-byte data section")
        }
        guard let expected = checkedByteCount(shape, dtype) else {
            throw fail("tensor '\(name)': shape \(shape) is too large")
        }
        guard end - begin == expected else {
            throw fail("tensor '\(name)': \(end - begin) bytes stored, but shape \(shape) of \(dtypeName) needs \(expected)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
}
