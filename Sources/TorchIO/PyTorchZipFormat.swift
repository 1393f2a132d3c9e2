import Foundation

/// The zip format `torch.save` writes since PyTorch 1.6: `<archive>/data.pkl` (the pickled object,
/// storages as persistent ids `('storage', torch.FloatStorage, key, location, numel)`) and one
/// stored entry `<archive>/data/<key>` of raw little-endian bytes per storage.
struct PyTorchZipFormat {
    let root: PickleValue
    private let zip: ZipReader
    private let prefix: String
    private let fail: (String) -> TorchIOError

    init(data: Data, fileName: String, fail: @escaping (String) -> TorchIOError) throws {
        self.fail = fail
        zip = try ZipReader(data: data, fileName: fileName, operation: "checkpoint")
        // The archive folder's name varies (`archive`, or the file's stem), so find data.pkl.
        guard let pickleEntry = zip.entries.first(where: {
            $0.name.hasSuffix("/data.pkl") && $0.name.dropLast("/data.pkl".count).contains("/") == false
        }) else {
            if zip.entries.contains(where: { $0.name.hasSuffix("/constants.pkl") || $0.name.contains("/code/") }) {
                throw fail("this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; in Python save the weights with torch.save(model.state_dict(), path)")
            }
            throw fail("zip archive without a data.pkl entry: not a torch.save checkpoint")
        }
        prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = try zip.contents(named: prefix + "byteorder"), String(decoding: order, as: UTF8.self) == "big" {
            throw fail("big-endian checkpoints are not supported")
        }
        var unpickler = Unpickler(data: try zip.contents(of: pickleEntry), fileName: fileName, operation: "checkpoint",
                                  persistentLoad: { try Self.storage(persistentID: $0, fail: fail) })
        root = try unpickler.load()
    }

    /// `('storage', storage_type, key, location, numel)`.
    private static func storage(persistentID pid: PickleValue, fail: (String) -> TorchIOError) throws -> PickleValue {
        guard let fields = pid.sequenceValue, fields.count >= 5, fields[0].stringValue == "storage",
              let key = fields[2].stringValue, let numel = fields[4].intValue
        else { throw fail("unsupported persistent id in data.pkl (expected ('storage', type, key, location, numel))") }
        let (typeName, dtype) = try storageType(fields[1], fail: fail)
        return .storage(TorchStorageRef(key: key, typeName: typeName, dtype: dtype, elementOffset: 0, elementCount: numel))
    }

    /// The bytes of the storage `key`: a slice of the mapped file, not a copy.
    func storageBytes(_ storage: TorchStorageRef) throws -> Data {
        let name = prefix + "data/" + storage.key
        guard let bytes = try zip.contents(named: name) else { throw fail("storage entry '\(name)' is missing from the archive") }
        return bytes
    }
}

/// Name and element type of a persistent id's storage type: a storage class global
/// (`torch.FloatStorage`) or, in some writers, a dtype (`torch.float32`).
func storageType(_ value: PickleValue, fail: (String) -> TorchIOError) throws -> (String, DType?) {
    switch value {
    case let .global(module, name):
        return ("\(module).\(name)", TorchStorageRef.dtype(storageType: name))
    case let .dtype(dtype):
        return ("torch.\(dtype)", dtype)
    default:
        throw fail("persistent id names a \(value.kindDescription) as its storage type")
    }
}
