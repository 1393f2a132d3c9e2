import Foundation

/// The weights (and, for mmsegmentation checkpoints, class names and palette) of a file written by
/// `torch.save`, read without Python or libtorch. Both the zip format (PyTorch >= 1.6) and the
/// legacy format (`_use_new_zipfile_serialization=False`) are read.
public struct PyTorchCheckpoint: Sendable {
    /// The model's tensors in state_dict order, contiguous, keys without a DistributedDataParallel
    /// `module.` prefix.
    public var stateDict: HostTensorDict
    /// `meta.dataset_meta.classes` (mmseg 1.x) or `meta.CLASSES` (mmseg 0.x), when present.
    public var classes: [String]?
    /// `meta.dataset_meta.palette` or `meta.PALETTE`: one [r, g, b] per class, when present.
    public var palette: [[Int]]?

    public init(stateDict: HostTensorDict, classes: [String]? = nil, palette: [[Int]]? = nil) {
        self.stateDict = stateDict
        self.classes = classes
        self.palette = palette
    }

    /// Reads the state_dict of a checkpoint: `state_dict` (or `model`, `module`) of the top-level
    /// dict, else the top-level dict itself when it holds tensors. Every other object in the file
    /// (optimizer state, numpy values, mmengine objects) is stepped over, and only the state_dict's
    /// storages are read.
    public static func read(_ url: URL) throws -> PyTorchCheckpoint {
        let fileName = url.path  // messages name the whole path
        let fail = { (message: String) in TorchIOError("checkpoint", "\(fileName): \(message)") }
        let data: Data
        if let problem = FileAccess.readProblem(url) { throw fail("cannot read: \(problem)") }
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw fail("cannot read: \(FileAccess.reason(error))")
        }

        let root: PickleValue
        let storageBytes: (TorchStorageRef) throws -> Data
        if ZipReader.looksLikeZip(data) {
            let archive = try PyTorchZipFormat(data: data, fileName: fileName, fail: fail)
            root = archive.root
            storageBytes = archive.storageBytes
        } else if PyTorchLegacyFormat.matches(data, fileName: fileName) {
            let archive = try PyTorchLegacyFormat(data: data, fileName: fileName, fail: fail)
            root = archive.root
            storageBytes = archive.storageBytes
        } else {
            throw fail(unknownFormatMessage(data))
        }

        guard let top = root.dictValue else {
            if case let .object(object) = root {
                throw fail("the file holds a pickled \(object.typeName) object, not a dict of tensors; in Python save the weights with torch.save(model.state_dict(), path)")
            }
            throw fail("the file holds a \(root.kindDescription), not a dict of tensors")
        }
        let source = try stateDictSource(top, fail: fail)
        let stateDict = try materialize(source, storageBytes: storageBytes, fail: fail)
        let meta = top["meta"]?.dictValue
        let datasetMeta = meta?["dataset_meta"]?.dictValue
        return PyTorchCheckpoint(stateDict: stateDict,
                                 classes: strings(datasetMeta?["classes"] ?? meta?["CLASSES"]),
                                 palette: colors(datasetMeta?["palette"] ?? meta?["PALETTE"]))
    }

    /// The dict that holds the tensors.
    private static func stateDictSource(_ top: PickleDict, fail: (String) -> TorchIOError) throws -> PickleDict {
        for key in ["state_dict", "model", "module"] {
            switch top[key] {
            case let .dict(dict)?: return dict
            case let .object(object)?:
                throw fail("'\(key)' holds a pickled \(object.typeName) object rather than a state_dict; in Python save the weights with torch.save(model.state_dict(), path)")
            default: continue
            }
        }
        if top.entries.contains(where: { if case .tensor = $0.value { return true } else { return false } }) {
            return top
        }
        let keys = top.entries.compactMap { $0.key.stringValue }.prefix(10).map { "'\($0)'" }
        throw fail("no state_dict found (top-level keys: \(keys.joined(separator: ", ")); expected 'state_dict', 'model' or a dict of tensors)")
    }

    /// Copies every tensor of `source` out of its storage, stripping DDP's `module.` prefix.
    private static func materialize(_ source: PickleDict, storageBytes: (TorchStorageRef) throws -> Data,
                                    fail: @escaping (String) -> TorchIOError) throws -> HostTensorDict {
        var result = HostTensorDict()
        for (keyValue, value) in source.entries {
            // Non-tensor entries (None buffers, `_extra_state`) carry no weights.
            guard case let .tensor(ref) = value, let rawKey = keyValue.stringValue else { continue }
            let key = rawKey.hasPrefix("module.") ? String(rawKey.dropFirst("module.".count)) : rawKey
            guard result[key] == nil else {
                throw fail("key '\(key)' appears twice once the DistributedDataParallel prefix 'module.' is removed")
            }
            let bytes = try storageBytes(ref.storage)
            result[key] = try ref.materialize(storageBytes: bytes) { fail("tensor '\(rawKey)': \($0)") }
        }
        guard !result.isEmpty else { throw fail("the state_dict holds no tensors") }
        return result
    }

    private static func strings(_ value: PickleValue?) -> [String]? {
        guard let items = value?.sequenceValue else { return nil }
        let names = items.compactMap(\.stringValue)
        return names.count == items.count ? names : nil
    }

    /// A list of lists or tuples of ints; nil when it is anything else (a numpy array, say).
    private static func colors(_ value: PickleValue?) -> [[Int]]? {
        guard let rows = value?.sequenceValue else { return nil }
        var result: [[Int]] = []
        for row in rows {
            guard let items = row.sequenceValue else { return nil }
            let ints = items.compactMap(\.intValue)
            guard ints.count == items.count else { return nil }
            result.append(ints)
        }
        return result
    }

    /// What the file looks like, for the error when it is neither torch.save format.
    private static func unknownFormatMessage(_ data: Data) -> String {
        if data.count < 8 { return "file is too short (\(data.count) bytes) to be a PyTorch checkpoint" }
        if let headerLength = data.littleEndian(UInt64.self, at: 0), headerLength < UInt64(data.count),
           data.dropFirst(8).first == UInt8(ascii: "{") {
            return "this looks like a safetensors file; read it with SafeTensors.read"
        }
        if data.count > 262, data.bytes(at: 257, length: 5) == Data("ustar".utf8) {
            return "a tar-format checkpoint from PyTorch < 0.4 is not supported; in Python convert it with torch.save(torch.load(f), f2)"
        }
        if data.first == 0x80 {
            return "a plain pickle without torch.save's legacy magic number; not a PyTorch checkpoint"
        }
        return "not a PyTorch checkpoint (neither torch.save's zip format nor its legacy format)"
    }
}
