import Foundation
import Testing
import SegModels
import Torch
import TorchIO
@testable import SegEngine

/// Writes what mmcv 1.x's `save_checkpoint` writes for an mmseg 0.x model (torch.save zip format, pickle protocol 2):
/// `{'meta': {'CLASSES': (...), 'PALETTE': [...]}, 'state_dict': OrderedDict(...)}`. Keys that name one tensor
/// share one storage record, as torch.save stores the `detach()`ed aliases of a shared module.
enum MMCVCheckpointWriter {
    struct Pickle {
        var bytes = Data([0x80, 2])  // PROTO 2
        mutating func op(_ c: Character) { bytes.append(UInt8(ascii: c.unicodeScalars.first!)) }
        mutating func u32(_ v: Int) { var x = UInt32(v).littleEndian; withUnsafeBytes(of: &x) { bytes.append(contentsOf: $0) } }
        mutating func string(_ s: String) { op("X"); u32(s.utf8.count); bytes.append(contentsOf: Data(s.utf8)) }
        mutating func int(_ v: Int) { op("J"); var x = Int32(v).littleEndian; withUnsafeBytes(of: &x) { bytes.append(contentsOf: $0) } }
        mutating func global(_ module: String, _ name: String) { op("c"); bytes.append(contentsOf: Data("\(module)\n\(name)\n".utf8)) }
        mutating func tuple(_ items: [Int]) { op("("); items.forEach { int($0) }; op("t") }
        mutating func orderedDict() { global("collections", "OrderedDict"); op(")"); op("R") }
    }

    /// `storageOf[key]`: the storage record a key's tensor lives in (aliases share one); every tensor is contiguous.
    static func write(_ dict: HostTensorDict, storageOf: [String: String], classes: [String], to url: URL) throws {
        var p = Pickle()
        p.op("}"); p.op("(")
        p.string("meta")
        p.op("}"); p.op("("); p.string("CLASSES"); p.op("("); classes.forEach { p.string($0) }; p.op("t")
        p.string("PALETTE"); p.op("]"); p.op("(")
        for i in classes.indices { p.tuple([i % 256, (7 * i) % 256, (13 * i) % 256]) }
        p.op("e"); p.op("u")
        p.string("state_dict")
        p.orderedDict()
        p.op("(")
        var storages: [(String, Data)] = []
        for (key, t) in dict.items {
            let record = storageOf[key]!
            if !storages.contains(where: { $0.0 == record }) { storages.append((record, t.bytes)) }
            p.string(key)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op("(")
            p.op("("); p.string("storage"); p.global("torch", t.dtype == .int64 ? "LongStorage" : "FloatStorage")
            p.string(record); p.string("cpu"); p.int(t.elementCount); p.op("t"); p.op("Q")  // BINPERSID
            p.int(0)
            p.tuple(t.shape)
            p.tuple(t.shape.indices.map { i in t.shape[(i + 1)...].reduce(1, *) })
            p.bytes.append(0x89)  // NEWFALSE: requires_grad
            p.orderedDict()
            p.op("t"); p.op("R")
        }
        p.op("u")  // state_dict items
        p.op("u")  // top-level items
        p.op(".")
        let entries = [("archive/data.pkl", p.bytes), ("archive/byteorder", Data("little".utf8))]
            + storages.map { ("archive/data/\($0.0)", $0.1) } + [("archive/version", Data("3\n".utf8))]
        try storedZip(entries).write(to: url)
    }

    /// A ZIP archive of stored (uncompressed) entries, CRCs left zero (the reader checks only non-zero ones).
    static func storedZip(_ entries: [(String, Data)]) -> Data {
        var out = Data()
        func u16(_ v: Int) { var x = UInt16(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
        func u32(_ v: Int) { var x = UInt32(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
        var offsets: [Int] = []
        for (name, data) in entries {
            offsets.append(out.count)
            u32(0x0403_4b50); u16(20); u16(0); u16(0); u16(0); u16(0); u32(0)
            u32(data.count); u32(data.count); u16(name.utf8.count); u16(0)
            out.append(Data(name.utf8)); out.append(data)
        }
        let directoryOffset = out.count
        for ((name, data), offset) in zip(entries, offsets) {
            u32(0x0201_4b50); u16(20); u16(20); u16(0); u16(0); u16(0); u16(0); u32(0)
            u32(data.count); u32(data.count); u16(name.utf8.count); u16(0); u16(0); u16(0); u16(0); u32(0); u32(offset)
            out.append(Data(name.utf8))
        }
        let directorySize = out.count - directoryOffset
        u32(0x0605_4b50); u16(0); u16(0); u16(entries.count); u16(entries.count); u32(directorySize); u32(directoryOffset); u16(0)
        return out
    }
}

@Suite("AFFormer: official .pth checkpoints (mmcv 1.x layout)")
struct AFFormerCheckpointTests {
    static func sourceModel() throws -> (any SegmentationModel, HostTensorDict, [String: String]) {
        let model = try ModelRegistry.segmentation("afformer-tiny", numClasses: 19)
        var dict = HostTensorDict()
        var storageOf: [String: String] = [:]
        var record: [ObjectIdentifier: String] = [:]
        for (key, t) in model.stateDict() {
            dict[key] = try t.host()
            let id = ObjectIdentifier(t)
            if record[id] == nil { record[id] = String(record.count) }
            storageOf[key] = record[id]!
        }
        return (model, dict, storageOf)
    }

    @Test("a .pth with shared storages loads strictly with its class names, and gives the same logits")
    func loads() throws {
        let dir = try EngineFixtures.temporaryFolder("afformer-pth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (source, dict, storageOf) = try Self.sourceModel()
        #expect(Set(storageOf.values).count < dict.count, "aliases share storages")
        let classes = (0..<19).map { "class-\($0)" }
        let url = dir.appendingPathComponent("AFFormer_tiny_cityscapes.pth")
        try MMCVCheckpointWriter.write(dict, storageOf: storageOf, classes: classes, to: url)

        let read = try PyTorchCheckpoint.read(url)
        #expect(read.stateDict.keys == dict.keys && read.classes == classes)
        let loaded = try ModelLoader.load(model: "afformer-tiny", checkpoint: url)
        #expect(loaded.model.numClasses == 19 && loaded.classNames == classes && loaded.classSource == "checkpoint metadata")
        #expect(loaded.palette[1] == [1, 7, 13])
        let x = Tensor.randn([1, 3, 64, 96])
        let (a, b) = Torch.inferenceMode { (source.eval().logits(x), loaded.model.logits(x)) }
        #expect((a - b).abs().max().item() == 0)
    }

    @Test("a .pth whose alias keys disagree is refused, naming the keys")
    func disagreeingAliases() throws {
        let dir = try EngineFixtures.temporaryFolder("afformer-pth-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        var (_, dict, storageOf) = try Self.sourceModel()
        let key = "backbone.mhca_stages.1.mhca_blks.0.MHCA_layers.1.cpe.proj.weight"
        var values = dict[key]!.floatValues()
        values[0] += 1
        dict[key] = try Tensor(values, shape: dict[key]!.shape).host()
        storageOf[key] = "altered"
        let url = dir.appendingPathComponent("bad.pth")
        try MMCVCheckpointWriter.write(dict, storageOf: storageOf, classes: (0..<19).map { "c\($0)" }, to: url)
        do {
            _ = try ModelLoader.load(model: "afformer-tiny", checkpoint: url)
            Issue.record("a checkpoint with disagreeing aliases loaded")
        } catch {
            #expect("\(error)".contains("backbone.mhca_stages.1.mhca_blks.0.cpe.proj.weight vs \(key)"), "\(error)")
        }
    }
}
