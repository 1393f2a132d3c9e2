import Foundation

/// The format of `torch.save` before PyTorch 1.6 (still written with
/// `_use_new_zipfile_serialization=False`): five pickles in a row (magic number, protocol version
/// 1001, system info, the object, the list of storage keys), then each storage in that list as an
/// int64 element count followed by its raw bytes.
struct PyTorchLegacyFormat {
    /// 0x1950a86a20f9469cfc6c as the little-endian bytes of its LONG1 pickle.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    let root: PickleValue
    private let storages: [String: Data]
    private let fail: (String) -> TorchIOError

    /// True when `data` starts with a pickle of the legacy magic number.
    static func matches(_ data: Data, fileName: String) -> Bool {
        guard data.first == 0x80 else { return false }
        var unpickler = Unpickler(data: data, fileName: fileName)
        if case let .bigInt(bytes) = try? unpickler.load() { return bytes == magic }
        return false
    }

    init(data: Data, fileName: String, fail: @escaping (String) -> TorchIOError) throws {
        self.fail = fail
        var position = 0
        func nextPickle(_ persistentLoad: @escaping (PickleValue) throws -> PickleValue = { _ in .none }) throws -> PickleValue {
            var unpickler = Unpickler(data: data, start: position, fileName: fileName, operation: "checkpoint",
                                      persistentLoad: persistentLoad)
            let value = try unpickler.load()
            position = unpickler.position
            return value
        }

        guard case let .bigInt(magic) = try nextPickle(), magic == Self.magic else {
            throw fail("not a legacy-format PyTorch file (bad magic number)")
        }
        guard let version = try nextPickle().intValue, version == 1001 else {
            throw fail("unsupported legacy-format protocol version (expected 1001)")
        }
        if let info = try nextPickle().dictValue, case .bool(false)? = info["little_endian"] {
            throw fail("big-endian checkpoints are not supported")
        }

        // Root storages: key -> (dtype, element count), as the object's persistent ids declare them.
        final class Roots { var byKey: [String: (typeName: String, dtype: DType?, count: Int)] = [:] }
        let roots = Roots()
        root = try nextPickle { pid in try Self.storage(persistentID: pid, roots: &roots.byKey, fail: fail) }

        guard let keyList = try nextPickle().sequenceValue else { throw fail("storage key list is missing") }
        var storages: [String: Data] = [:]
        for keyValue in keyList {
            guard let key = keyValue.stringValue, let rootStorage = roots.byKey[key] else {
                throw fail("storage key list names a storage no tensor uses")
            }
            guard let dtype = rootStorage.dtype else { throw fail("storage type \(rootStorage.typeName) is not supported") }
            guard let count = data.littleEndian(Int64.self, at: position), count == Int64(rootStorage.count) else {
                throw fail("storage '\(key)': size record missing or different from the declared \(rootStorage.count) elements (truncated file?)")
            }
            let (length, overflow) = rootStorage.count.multipliedReportingOverflow(by: dtype.elementSize)
            guard !overflow, let bytes = data.bytes(at: position + 8, length: length) else {
                throw fail("storage '\(key)': \(rootStorage.count) elements run past the end of the file (truncated file?)")
            }
            storages[key] = bytes
            position += 8 + length
        }
        self.storages = storages
    }

    /// `('storage', storage_type, root_key, location, numel, view_metadata)`; view_metadata is
    /// `(view_key, offset, size)` for storages that are slices of a root storage (old PyTorch).
    private static func storage(persistentID pid: PickleValue,
                                roots: inout [String: (typeName: String, dtype: DType?, count: Int)],
                                fail: (String) -> TorchIOError) throws -> PickleValue {
        guard let fields = pid.sequenceValue, let kind = fields.first?.stringValue else {
            throw fail("unsupported persistent id in the legacy pickle")
        }
        // 'module' ids carry the source of pickled nn.Module classes: nothing to load.
        guard kind == "storage" else { return .none }
        guard fields.count >= 5, let key = fields[2].stringValue, let numel = fields[4].intValue, numel >= 0 else {
            throw fail("malformed storage persistent id in the legacy pickle")
        }
        let (typeName, dtype) = try storageType(fields[1], fail: fail)
        if let existing = roots[key], existing.count != numel {
            throw fail("storage '\(key)' is declared with two different sizes")
        }
        roots[key] = (typeName, dtype, numel)
        var offset = 0, count = numel
        if fields.count >= 6, let view = fields[5].sequenceValue {
            guard view.count == 3, let viewOffset = view[1].intValue, let viewSize = view[2].intValue,
                  viewOffset >= 0, viewSize >= 0, viewOffset <= numel, viewSize <= numel - viewOffset
            else { throw fail("malformed storage view in the legacy pickle") }
            offset = viewOffset
            count = viewSize
        }
        return .storage(TorchStorageRef(key: key, typeName: typeName, dtype: dtype, elementOffset: offset, elementCount: count))
    }

    func storageBytes(_ storage: TorchStorageRef) throws -> Data {
        guard let bytes = storages[storage.key] else { throw fail("storage '\(storage.key)' is missing from the file") }
        return bytes
    }
}
