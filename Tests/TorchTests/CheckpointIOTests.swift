import Foundation

import Testing
@testable import TorchIO
import Torch

/// Checkpoint IO without libtorch: safetensors, the zip and legacy `torch.save` formats, the
/// pickle VM, and that malformed files throw `TorchIOError` instead of trapping.
@Suite("CheckpointIO")
struct CheckpointIOTests {
    // MARK: - Fixtures

    static let resources: URL = {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            fatalError("TorchTests resources are missing from the test bundle")
        }
        return url
    }()

    static func checkpoint(_ name: String) -> URL {
        resources.appendingPathComponent("checkpoint-tiny").appendingPathComponent(name)
    }

    static func parity(_ name: String) -> URL {
        resources.appendingPathComponent("parity-tiny").appendingPathComponent(name)
    }

    static let pthFiles = ["iter_5.pth", "ddp_state_dict.pth", "fp16.pth", "legacy_format.pth"]

    /// A fresh folder for files a test writes, removed by the caller.
    static func scratchFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("CheckpointIOTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One tensor of every dtype with recognisable bytes, including a scalar and an empty tensor.
    static func everyDTypeDict() -> HostTensorDict {
        var dict = HostTensorDict()
        let shapes: [[Int]] = [[2, 3], [5], [], [1, 2, 2], [0, 4], [3, 1], [2, 2], [7], [1], [4, 1, 1]]
        for (i, dtype) in DType.allCases.enumerated() {
            let shape = shapes[i % shapes.count]
            let count = shape.reduce(1, *) * dtype.elementSize
            var bytes = Data((0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ i) })
            if dtype == .bool { bytes = Data(bytes.map { $0 & 1 }) }
            // Names out of alphabetical order, so that kept order is visible.
            dict["z\(DType.allCases.count - i).\(dtype)"] = HostTensor(dtype: dtype, shape: shape, bytes: bytes)
        }
        return dict
    }

    // MARK: - SafeTensors

    @Test func safetensorsRoundTripKeepsEveryDTypeOrderAndMetadata() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("all.safetensors")
        let dict = Self.everyDTypeDict()
        let metadata = ["format": "pt", "note": "quote \" and newline\n and ✓"]
        try SafeTensors.write(dict, metadata: metadata, to: url)

        let back = try SafeTensors.read(url)
        #expect(back.keys == dict.keys)
        for key in dict.keys {
            #expect(back[key] == dict[key], "\(key)")
        }
        #expect(Set(back.items.map(\.value.dtype)) == Set(DType.allCases))
        #expect(try SafeTensors.readMetadata(url) == metadata)

        // Format details the Python reader relies on: header padded to 8 bytes with spaces,
        // header keys in dict order, data offsets contiguous from 0.
        let raw = try Data(contentsOf: url)
        let headerLength = Int(raw.littleEndian(UInt64.self, at: 0) ?? 0)
        #expect(headerLength % 8 == 0)
        let header = String(decoding: raw[8 ..< 8 + headerLength], as: UTF8.self)
        #expect(header.hasPrefix("{\"__metadata__\""))
        let positions = dict.keys.compactMap { header.range(of: "\"\($0)\"")?.lowerBound }
        #expect(positions.count == dict.count && positions == positions.sorted())
        let totalBytes = dict.items.reduce(0) { $0 + $1.value.bytes.count }
        #expect(raw.count == 8 + headerLength + totalBytes)

        // No temporary file is left beside the result.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["all.safetensors"])
    }

    @Test func safetensorsWriteReplacesAnExistingFileAndHandlesEmptyDicts() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("x.safetensors")
        try SafeTensors.write(Self.everyDTypeDict(), to: url)
        try SafeTensors.write(HostTensorDict(), to: url)
        #expect(try SafeTensors.read(url).isEmpty)
        #expect(try SafeTensors.readMetadata(url).isEmpty)
        #expect(throws: TorchIOError.self) {
            try SafeTensors.write(HostTensorDict([("__metadata__", HostTensor(dtype: .uint8, shape: [], bytes: Data([1])))]), to: url)
        }
        // A folder that does not exist is an error, not a crash.
        #expect(throws: TorchIOError.self) {
            try SafeTensors.write(HostTensorDict(), to: folder.appendingPathComponent("missing/x.safetensors"))
        }
    }

    @Test func readsParityWeightsInDataOffsetOrder() throws {
        let weights = try SafeTensors.read(Self.parity("weights.safetensors"))
        #expect(weights.count == 245)
        let stem = try #require(weights["backbone.patch_embed1.conv1.0.weight"])
        #expect(stem.dtype == .float16)
        #expect(stem.shape == [8, 3, 3, 3])
        #expect(stem.bytes.count == 8 * 27 * 2)
        let tracked = try #require(weights["backbone.patch_embed1.conv1.1.num_batches_tracked"])
        #expect(tracked.dtype == .int64 && tracked.shape == [] && tracked.floatValues() == [3])
        // The Python writer stores 8-byte tensors first; data-offset order keeps that.
        #expect(weights.keys.first == "backbone.patch_embed1.conv1.1.num_batches_tracked")
        #expect(weights["decode_head.conv_seg.weight"]?.shape == [5, 32, 1, 1])

        let input = try SafeTensors.read(Self.parity("input.safetensors"))
        #expect(input.keys == ["input"])
        #expect(input["input"]?.shape == [1, 3, 96, 128] && input["input"]?.dtype == .float32)
        let expected = try SafeTensors.read(Self.parity("expected.safetensors"))
        #expect(expected.keys == ["logits", "logits_full", "stage1", "stage2", "stage3", "stage4"])
        #expect(expected["stage4"]?.shape == [1, 96, 3, 4])
        #expect(expected["logits"]?.shape == [1, 5, 12, 16])
    }

    @Test func rewritingParityWeightsGivesTheSameTensors() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = try SafeTensors.read(Self.parity("weights.safetensors"))
        let url = folder.appendingPathComponent("weights.safetensors")
        try SafeTensors.write(weights, to: url)
        #expect(try SafeTensors.read(url) == weights)
    }

    /// A safetensors file from a raw header string and data section.
    static func rawSafetensors(header: String, data: Data = Data(), claimedLength: UInt64? = nil) -> Data {
        var out = Data()
        var length = (claimedLength ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(Data(header.utf8))
        out.append(data)
        return out
    }

    static let malformedSafetensors: [(String, Data)] = [
        ("empty file", Data()),
        ("short length", Data([1, 2, 3])),
        ("header beyond file", rawSafetensors(header: "{}", claimedLength: 1000)),
        ("huge header length", rawSafetensors(header: "{}", claimedLength: UInt64.max)),
        ("garbage header", rawSafetensors(header: "\u{1}\u{2}garbage")),
        ("not an object", rawSafetensors(header: "[1, 2]")),
        ("truncated JSON", rawSafetensors(header: "{\"a\": {\"dtype\": \"F32\"")),
        ("unknown dtype", rawSafetensors(header: #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: Data(count: 8))),
        ("wrong byte count", rawSafetensors(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Data(count: 8))),
        ("offsets past end", rawSafetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: Data(count: 8))),
        ("reversed offsets", rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#, data: Data(count: 8))),
        ("negative dim", rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#)),
        ("overflowing shape", rawSafetensors(header: #"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: Data(count: 8))),
        ("float shape", rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#, data: Data(count: 1))),
        ("bool shape", rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[true],"data_offsets":[0,1]}}"#, data: Data(count: 1))),
        ("overlap", rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#, data: Data(count: 8))),
        ("duplicate key", rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: Data(count: 2))),
        ("non-string metadata", rawSafetensors(header: #"{"__metadata__":{"a":1}}"#)),
        ("deep nesting", rawSafetensors(header: String(repeating: "[", count: 100_000))),
    ]

    @Test(arguments: malformedSafetensors.map(\.0))
    func malformedSafetensorsThrow(_ name: String) throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bad.safetensors")
        try #require(Self.malformedSafetensors.first { $0.0 == name }).1.write(to: url)
        let error = #expect(throws: TorchIOError.self) { try SafeTensors.read(url) }
        #expect(error?.operation == "safetensors")
        #expect(error?.message.hasPrefix("\(url.path): ") == true)  // the whole path
    }

    @Test func truncatedSafetensorsThrow() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let full = try Data(contentsOf: Self.parity("weights.safetensors"))
        let url = folder.appendingPathComponent("cut.safetensors")
        for length in [4, 8, 100, 23_679, full.count / 2, full.count - 1] {
            try full.prefix(length).write(to: url)
            #expect(throws: TorchIOError.self, "length \(length)") { try SafeTensors.read(url) }
        }
        #expect(throws: TorchIOError.self) { try SafeTensors.read(folder.appendingPathComponent("absent.safetensors")) }
    }

    // MARK: - PyTorch checkpoints

    @Test(arguments: pthFiles)
    func pthGivesTheParityWeights(_ file: String) throws {
        let reference = try SafeTensors.read(Self.parity("weights.safetensors"))
        let checkpoint = try PyTorchCheckpoint.read(Self.checkpoint(file))
        let stateDict = checkpoint.stateDict
        #expect(Set(stateDict.keys) == Set(reference.keys))
        #expect(stateDict.count == reference.count)
        for (key, expected) in reference.items {
            guard let tensor = stateDict[key] else { continue }
            #expect(tensor.shape == expected.shape, "\(key)")
            #expect(tensor.floatValues() == expected.floatValues(), "\(key)")
            if expected.dtype == .int64 { #expect(tensor.dtype == .int64, "\(key)") }
        }
        let floatTypes = Set(stateDict.items.map(\.value.dtype).filter(\.isFloatingPoint))
        #expect(floatTypes == (file == "fp16.pth" ? [.float16] : [.float32]))
    }

    @Test func iterCheckpointKeepsStateDictOrderAndMeta() throws {
        let checkpoint = try PyTorchCheckpoint.read(Self.checkpoint("iter_5.pth"))
        #expect(checkpoint.stateDict.keys.first == "backbone.patch_embed1.conv1.1.num_batches_tracked")
        #expect(checkpoint.stateDict.keys.last == "decode_head.squeeze2.conv.weight")
        #expect(checkpoint.classes == ["wall", "building", "sky", "floor", "tree"])
        #expect(checkpoint.palette == [[120, 120, 120], [180, 120, 120], [6, 230, 230], [80, 50, 50], [4, 200, 3]])
    }

    @Test func ddpPrefixIsStrippedAndBareDictsHaveNoMeta() throws {
        let checkpoint = try PyTorchCheckpoint.read(Self.checkpoint("ddp_state_dict.pth"))
        #expect(!checkpoint.stateDict.keys.contains { $0.hasPrefix("module.") })
        #expect(checkpoint.classes == nil && checkpoint.palette == nil)
    }

    @Test func legacyAndZipFormatsAgree() throws {
        let legacy = try PyTorchCheckpoint.read(Self.checkpoint("legacy_format.pth"))
        let zip = try PyTorchCheckpoint.read(Self.checkpoint("iter_5.pth"))
        #expect(legacy.stateDict == zip.stateDict)
    }

    @Test(arguments: pthFiles)
    func truncatedCheckpointsThrow(_ file: String) throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let full = try Data(contentsOf: Self.checkpoint(file))
        let url = folder.appendingPathComponent(file)
        for length in [0, 1, 10, 30, 200, 5_000, full.count / 2, full.count - 30, full.count - 1] {
            try full.prefix(length).write(to: url)
            let error = #expect(throws: TorchIOError.self, "\(file) cut to \(length) bytes") { try PyTorchCheckpoint.read(url) }
            #expect(error?.operation == "checkpoint")
            #expect(error?.message.hasPrefix("\(url.path): ") == true)  // the whole path
        }
    }

    @Test func garbageAndForeignFilesThrowClearErrors() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("x.pth")
        var rng = SplitMix64(seed: 1)
        try Data((0 ..< 4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: url)
        #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }

        try Data(contentsOf: Self.parity("input.safetensors")).write(to: url)
        let safetensorsError = #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        #expect(safetensorsError?.message.contains("safetensors") == true)

        // A pickle that is not a torch.save file, and a zip without data.pkl.
        try Data([0x80, 0x02, 0x4B, 0x05, 0x2E]).write(to: url)
        #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        try makeZip([("archive/other.txt", Data("hi".utf8))]).write(to: url)
        #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(folder.appendingPathComponent("absent.pth")) }
    }

    /// The entries of a real checkpoint, to rebuild it with changes.
    static func entries(of file: String) throws -> [(String, Data)] {
        let data = try Data(contentsOf: checkpoint(file))
        let zip = try ZipReader(data: data, fileName: file)
        return try zip.entries.map { ($0.name, Data(try zip.contents(of: $0))) }
    }

    @Test func rebuiltZip64ArchiveReadsTheSame() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("zip64.pth")
        // Every size and offset moved into ZIP64 extra fields, as for files over 4 GiB.
        try makeZip(try Self.entries(of: "ddp_state_dict.pth"), zip64: true).write(to: url)
        let original = try PyTorchCheckpoint.read(Self.checkpoint("ddp_state_dict.pth"))
        #expect(try PyTorchCheckpoint.read(url).stateDict == original.stateDict)
    }

    @Test func zipWithMissingStorageOrDeflatedEntriesThrows() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("broken.pth")
        let entries = try Self.entries(of: "fp16.pth")

        try makeZip(entries.filter { $0.0 != "fp16/data/17" }).write(to: url)
        let missing = #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        #expect(missing?.message.contains("fp16/data/17") == true)
        #expect(missing?.message.contains("missing") == true)

        try makeZip(entries, method: 8).write(to: url)
        let deflated = #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        #expect(deflated?.message.contains("deflate") == true)
    }

    @Test func corruptedStorageBytesFailTheCRCCheck() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var data = try Data(contentsOf: Self.checkpoint("ddp_state_dict.pth"))
        let zip = try ZipReader(data: data, fileName: "ddp_state_dict.pth")
        let entry = try #require(zip.entry(named: "ddp_state_dict/data/100"))
        let slice = try zip.contents(of: entry)
        data[slice.startIndex + slice.count / 2] ^= 0x40
        let url = folder.appendingPathComponent("flipped.pth")
        try data.write(to: url)
        let error = #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        #expect(error?.message.contains("CRC-32") == true)
    }

    /// Random byte changes must end in a result or a `TorchIOError`, never a trap. The zip case
    /// mutates data.pkl and repacks it without CRCs (so the pickle VM, not the CRC check, meets
    /// the damage), plus the original file's directory records; the legacy case mutates its
    /// pickles and storage records in place. Deterministic seed, so failures reproduce.
    @Test func mutatedCheckpointsNeverCrash() throws {
        let folder = try Self.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("mutated.pth")
        var rng = SplitMix64(seed: 42)
        func mutate(_ data: inout Data, in region: Range<Int>) {
            for _ in 0 ..< 1 + Int(rng.next() % 4) {
                let offset = data.startIndex + region.lowerBound + Int(rng.next() % UInt64(region.count))
                data[offset] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        func attempt(_ data: Data) throws -> Bool {
            try data.write(to: url)
            do { _ = try PyTorchCheckpoint.read(url); return true } catch is TorchIOError { return false }
        }

        var entries = try Self.entries(of: "iter_5.pth")
        let pickleIndex = try #require(entries.firstIndex { $0.0 == "archive/data.pkl" })
        let pickle = entries[pickleIndex].1
        var outcomes: [Bool] = []
        for _ in 0 ..< 120 {
            var mutated = pickle
            mutate(&mutated, in: 0 ..< mutated.count)
            entries[pickleIndex].1 = mutated
            outcomes.append(try attempt(makeZip(entries)))
        }
        let zipFile = try Data(contentsOf: Self.checkpoint("iter_5.pth"))
        for _ in 0 ..< 60 {
            var mutated = zipFile
            mutate(&mutated, in: (zipFile.count - 25_000) ..< zipFile.count)
            outcomes.append(try attempt(mutated))
        }
        let legacy = try Data(contentsOf: Self.checkpoint("legacy_format.pth"))
        for _ in 0 ..< 120 {
            var mutated = legacy
            mutate(&mutated, in: 0 ..< 40_000)
            outcomes.append(try attempt(mutated))
        }
        // Both outcomes occur: damage to names and numbers can still load, most damage cannot.
        #expect(outcomes.contains(true) && outcomes.contains(false))
    }

    // MARK: - Internals: strided tensors, pickle VM, half floats

    @Test func nonContiguousViewsAreCopiedRowMajor() throws {
        let values = (0 ..< 12).map(Float.init)
        let bytes = values.withUnsafeBytes { Data($0) }
        let storage = TorchStorageRef(key: "0", typeName: "torch.FloatStorage", dtype: .float32, elementOffset: 0, elementCount: 12)
        let fail = { (m: String) in TorchIOError("checkpoint", m) }
        // The transpose of a 3x4 matrix: shape [4, 3], strides [1, 4].
        let transposed = try TorchTensorRef(storage: storage, storageOffset: 0, shape: [4, 3], stride: [1, 4])
            .materialize(storageBytes: bytes, fail: fail)
        #expect(transposed.floatValues() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        // A column slice with an offset: x[:, 1:3] of the 3x4 matrix.
        let slice = try TorchTensorRef(storage: storage, storageOffset: 1, shape: [3, 2], stride: [4, 1])
            .materialize(storageBytes: bytes, fail: fail)
        #expect(slice.floatValues() == [1, 2, 5, 6, 9, 10])
        // Broadcast-like zero stride and a contiguous view with an offset.
        let repeated = try TorchTensorRef(storage: storage, storageOffset: 2, shape: [2, 3], stride: [0, 1])
            .materialize(storageBytes: bytes, fail: fail)
        #expect(repeated.floatValues() == [2, 3, 4, 2, 3, 4])
        // Views reaching past the storage, or with mismatched ranks, throw.
        for (offset, shape, stride) in [(10, [3], [1]), (0, [4, 4], [4, 1]), (0, [2], [1, 1]), (0, [Int.max, 2], [Int.max, 1]), (-1, [1], [1])] {
            #expect(throws: TorchIOError.self) {
                try TorchTensorRef(storage: storage, storageOffset: offset, shape: shape, stride: stride)
                    .materialize(storageBytes: bytes, fail: fail)
            }
        }
    }

    /// The same object pickled by CPython with protocols 2 to 5 (see the test below for what it holds).
    static let pythonPickles: [Int: String] = [
        2: "gAJ9cQAoWAQAAABpbnRzcQFdcQIoSwBLAUr/////S/9NAAFN//9KAAABAEqQ7v7/igUAAACAAIoGAAAAAAABiggAAAAAAAAAgIoI/////////39lWAMAAABiaWdxA4oJAAAAAAAAAABAWAcAAABuZWdfYmlncQSKCQAAAAAAAAAAwFgGAAAAZmxvYXRzcQVdcQYoRz/4AAAAAAAAR4AAAAAAAAAAR3435DyIAHWcZVgEAAAAdGV4dHEHWAoAAABow6lsbG8g4pyTcQhYBQAAAGJ5dGVzcQljX2NvZGVjcwplbmNvZGUKcQpYBAAAAAABw79xC1gGAAAAbGF0aW4xcQyGcQ1ScQ5YBQAAAHR1cGxlcQ8oSwFYAQAAAGFxEE6IiXRxEVgCAAAAb2RxEmNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxEylScRQoWAEAAAB4cRVLAVgBAAAAeXEWSwJ1WAMAAABzZXRxF2NfX2J1aWx0aW5fXwpzZXQKcRhdcRlLA2GFcRpScRtYBgAAAGZyb3plbnEcY19fYnVpbHRpbl9fCmZyb3plbnNldApxHV1xHksEYYVxH1JxIFgGAAAAYnVmZmVycSFjbW1lbmdpbmUuZmFrZQpCdWZmZXIKcSIpgXEjfXEkKFgKAAAAbWF4X2xlbmd0aHElSwdYBgAAAHZhbHVlc3EmXXEnKEc/8AAAAAAAAEdAAAAAAAAAAGV1YlgDAAAAY2ZncShjbW1lbmdpbmUuZmFrZQpDZmcKcSkpgXEqKFgCAAAAbHJxK0c/4AAAAAAAAFgFAAAAYmV0YXNxLEc/7MzMzMzMzUc/7/fO2RaHK4ZxLXVYBgAAAHNoYXJlZHEuXXEvKF1xMChLB0sIZWgwZXUu",
        3: "gAN9cQAoWAQAAABpbnRzcQFdcQIoSwBLAUr/////S/9NAAFN//9KAAABAEqQ7v7/igUAAACAAIoGAAAAAAABiggAAAAAAAAAgIoI/////////39lWAMAAABiaWdxA4oJAAAAAAAAAABAWAcAAABuZWdfYmlncQSKCQAAAAAAAAAAwFgGAAAAZmxvYXRzcQVdcQYoRz/4AAAAAAAAR4AAAAAAAAAAR3435DyIAHWcZVgEAAAAdGV4dHEHWAoAAABow6lsbG8g4pyTcQhYBQAAAGJ5dGVzcQlDAwAB/3EKWAUAAAB0dXBsZXELKEsBWAEAAABhcQxOiIl0cQ1YAgAAAG9kcQ5jY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcQ8pUnEQKFgBAAAAeHERSwFYAQAAAHlxEksCdVgDAAAAc2V0cRNjYnVpbHRpbnMKc2V0CnEUXXEVSwNhhXEWUnEXWAYAAABmcm96ZW5xGGNidWlsdGlucwpmcm96ZW5zZXQKcRldcRpLBGGFcRtScRxYBgAAAGJ1ZmZlcnEdY21tZW5naW5lLmZha2UKQnVmZmVyCnEeKYFxH31xIChYCgAAAG1heF9sZW5ndGhxIUsHWAYAAAB2YWx1ZXNxIl1xIyhHP/AAAAAAAABHQAAAAAAAAABldWJYAwAAAGNmZ3EkY21tZW5naW5lLmZha2UKQ2ZnCnElKYFxJihYAgAAAGxycSdHP+AAAAAAAABYBQAAAGJldGFzcShHP+zMzMzMzM1HP+/3ztkWhyuGcSl1WAYAAABzaGFyZWRxKl1xKyhdcSwoSwdLCGVoLGV1Lg==",
        4: "gASV0AEAAAAAAAB9lCiMBGludHOUXZQoSwBLAUr/////S/9NAAFN//9KAAABAEqQ7v7/igUAAACAAIoGAAAAAAABiggAAAAAAAAAgIoI/////////39ljANiaWeUigkAAAAAAAAAAECMB25lZ19iaWeUigkAAAAAAAAAAMCMBmZsb2F0c5RdlChHP/gAAAAAAABHgAAAAAAAAABHfjfkPIgAdZxljAR0ZXh0lIwKaMOpbGxvIOKck5SMBWJ5dGVzlEMDAAH/lIwFdHVwbGWUKEsBjAFhlE6IiXSUjAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpQojAF4lEsBjAF5lEsCdYwDc2V0lI+UKEsDkIwGZnJvemVulChLBJGUjAZidWZmZXKUjA1tbWVuZ2luZS5mYWtllIwGQnVmZmVylJOUKYGUfZQojAptYXhfbGVuZ3RolEsHjAZ2YWx1ZXOUXZQoRz/wAAAAAAAAR0AAAAAAAAAAZXVijANjZmeUaBqMA0NmZ5STlCmBlCiMAmxylEc/4AAAAAAAAIwFYmV0YXOURz/szMzMzMzNRz/v987ZFocrhpR1jAZzaGFyZWSUXZQoXZQoSwdLCGVoK2V1Lg==",
        5: "gAWV0AEAAAAAAAB9lCiMBGludHOUXZQoSwBLAUr/////S/9NAAFN//9KAAABAEqQ7v7/igUAAACAAIoGAAAAAAABiggAAAAAAAAAgIoI/////////39ljANiaWeUigkAAAAAAAAAAECMB25lZ19iaWeUigkAAAAAAAAAAMCMBmZsb2F0c5RdlChHP/gAAAAAAABHgAAAAAAAAABHfjfkPIgAdZxljAR0ZXh0lIwKaMOpbGxvIOKck5SMBWJ5dGVzlEMDAAH/lIwFdHVwbGWUKEsBjAFhlE6IiXSUjAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpQojAF4lEsBjAF5lEsCdYwDc2V0lI+UKEsDkIwGZnJvemVulChLBJGUjAZidWZmZXKUjA1tbWVuZ2luZS5mYWtllIwGQnVmZmVylJOUKYGUfZQojAptYXhfbGVuZ3RolEsHjAZ2YWx1ZXOUXZQoRz/wAAAAAAAAR0AAAAAAAAAAZXVijANjZmeUaBqMA0NmZ5STlCmBlCiMAmxylEc/4AAAAAAAAIwFYmV0YXOURz/szMzMzMzNRz/v987ZFocrhpR1jAZzaGFyZWSUXZQoXZQoSwdLCGVoK2V1Lg==",
    ]

    @Test(arguments: [2, 3, 4, 5])
    func unpicklerDecodesPythonPickles(_ proto: Int) throws {
        let encoded = try #require(Self.pythonPickles[proto])
        let data = try #require(Data(base64Encoded: encoded))
        var unpickler = Unpickler(data: data, fileName: "test.pkl")
        let top = try #require(try unpickler.load().dictValue)
        #expect(unpickler.position == data.count)
        #expect(top.entries.compactMap(\.key.stringValue) == ["ints", "big", "neg_big", "floats", "text", "bytes", "tuple", "od", "set", "frozen", "buffer", "cfg", "shared"])
        #expect(top["ints"]?.sequenceValue?.compactMap(\.intValue) == [0, 1, -1, 255, 256, 65535, 65536, -70000, 1 << 31, 1 << 40, Int.min, Int.max])
        guard case let .bigInt(big)? = top["big"] else { Issue.record("2**70 is not a big int"); return }
        #expect(big == [0, 0, 0, 0, 0, 0, 0, 0, 0x40])
        guard case let .bigInt(negBig)? = top["neg_big"] else { Issue.record("-2**70 is not a big int"); return }
        #expect(negBig == [0, 0, 0, 0, 0, 0, 0, 0, 0xC0])
        let floats = top["floats"]?.sequenceValue?.compactMap { value -> Double? in
            if case let .float(f) = value { return f } else { return nil }
        }
        #expect(floats == [1.5, -0.0, 1e300])
        #expect(top["text"]?.stringValue == "héllo ✓")
        guard case let .bytes(bytes)? = top["bytes"] else { Issue.record("bytes lost"); return }
        #expect(bytes == Data([0, 1, 0xFF]))
        #expect(top["tuple"]?.sequenceValue?.count == 5)
        #expect(top["od"]?.dictValue?["y"]?.intValue == 2)
        #expect(top["set"]?.sequenceValue?.compactMap(\.intValue) == [3])
        #expect(top["frozen"]?.sequenceValue?.compactMap(\.intValue) == [4])
        // Unknown classes become opaque objects that keep what was applied to them.
        guard case let .object(buffer)? = top["buffer"] else { Issue.record("buffer is not opaque"); return }
        #expect(buffer.typeName == "mmengine.fake.Buffer")
        #expect(buffer.state?.dictValue?["max_length"]?.intValue == 7)
        guard case let .object(cfg)? = top["cfg"] else { Issue.record("cfg is not opaque"); return }
        #expect(cfg.typeName == "mmengine.fake.Cfg")
        #expect(cfg.dictItems["lr"] != nil)
        // Memoized containers are shared, as in Python.
        let shared = top["shared"]?.sequenceValue
        if case let .list(a)? = shared?.first, case let .list(b)? = shared?.last {
            #expect(a === b && a.items.compactMap(\.intValue) == [7, 8])
        } else {
            Issue.record("shared lists lost")
        }
    }

    @Test func unpicklerRejectsMalformedStreams() {
        let streams: [[UInt8]] = [
            [],  // empty
            [0x80, 0x02],  // no STOP
            [0x80, 0x02, 0x2E],  // STOP on an empty stack
            [0x80, 0x02, 0x65, 0x2E],  // APPENDS without MARK
            [0x80, 0x02, 0x68, 0x05, 0x2E],  // BINGET of an undefined memo key
            [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F],  // BINUNICODE longer than the data
            [0x80, 0x02, 0x5D, 0x4B, 0x01, 0x73, 0x2E],  // SETITEM on a list
            [0x80, 0x02, 0xFF, 0x2E],  // unknown opcode
            [0x80, 0x09, 0x2E],  // protocol 9
            [0x80, 0x02, 0x29, 0x52, 0x2E],  // REDUCE with one value on the stack
        ]
        for stream in streams {
            var unpickler = Unpickler(data: Data(stream), fileName: "bad.pkl")
            #expect(throws: TorchIOError.self, "\(stream)") { try unpickler.load() }
        }
    }

    @Test func halfAndBFloat16BitsConvertExactly() {
        #expect(Float(float16Bits: 0x3C00) == 1)
        #expect(Float(float16Bits: 0xC000) == -2)
        #expect(Float(float16Bits: 0x7BFF) == 65504)
        #expect(Float(float16Bits: 0x0001) == 0x1p-24)
        #expect(Float(float16Bits: 0x83FF) == -Float(0x3FF) * 0x1p-24)
        #expect(Float(float16Bits: 0x7C00) == .infinity)
        #expect(Float(float16Bits: 0x7E00).isNaN)
        #expect(Float(float16Bits: 0x8000).sign == .minus)
        #expect(Float(bfloat16Bits: 0x3F80) == 1)
        #expect(Float(bfloat16Bits: 0xC0A0) == -5)
        // Every finite half agrees with Swift's own Float16 where the platform has it.
        #if !(os(macOS) && arch(x86_64))
        for bits in UInt16.min ... UInt16.max where !Float16(bitPattern: bits).isNaN {
            if Float(float16Bits: bits) != Float(Float16(bitPattern: bits)) {
                Issue.record("half 0x\(String(bits, radix: 16))")
                break
            }
        }
        #endif
    }
}

// MARK: - Helpers

/// A small deterministic generator (SplitMix64), so fuzz-style tests are reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A stored ZIP archive (CRCs left zero: the reader does not check them). With `zip64`, every
/// size and offset goes through ZIP64 extra fields and end records; `method` marks entries as
/// compressed without compressing them, to test the refusal.
func makeZip(_ entries: [(String, Data)], method: UInt16 = 0, zip64: Bool = false) -> Data {
    var out = Data()
    func u16(_ v: Int) { var x = UInt16(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
    func u32(_ v: Int) { var x = UInt32(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
    func u64(_ v: Int) { var x = UInt64(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
    var offsets: [Int] = []
    for (name, data) in entries {
        offsets.append(out.count)
        u32(0x0403_4b50); u16(45); u16(0); u16(Int(method)); u16(0); u16(0); u32(0)
        u32(data.count); u32(data.count); u16(name.utf8.count); u16(0)
        out.append(Data(name.utf8)); out.append(data)
    }
    let directoryOffset = out.count
    for ((name, data), offset) in zip(entries, offsets) {
        u32(0x0201_4b50); u16(45); u16(45); u16(0); u16(Int(method)); u16(0); u16(0); u32(0)
        u32(zip64 ? 0xFFFF_FFFF : data.count); u32(zip64 ? 0xFFFF_FFFF : data.count)
        u16(name.utf8.count); u16(zip64 ? 28 : 0); u16(0); u16(0); u16(0); u32(0)
        u32(zip64 ? 0xFFFF_FFFF : offset)
        out.append(Data(name.utf8))
        if zip64 { u16(1); u16(24); u64(data.count); u64(data.count); u64(offset) }
    }
    let directorySize = out.count - directoryOffset
    if zip64 {
        let recordOffset = out.count
        u32(0x0606_4b50); u64(44); u16(45); u16(45); u32(0); u32(0)
        u64(entries.count); u64(entries.count); u64(directorySize); u64(directoryOffset)
        u32(0x0706_4b50); u32(0); u64(recordOffset); u32(1)
    }
    u32(0x0605_4b50); u16(0); u16(0)
    u16(zip64 ? 0xFFFF : entries.count); u16(zip64 ? 0xFFFF : entries.count)
    u32(zip64 ? 0xFFFF_FFFF : directorySize); u32(zip64 ? 0xFFFF_FFFF : directoryOffset); u16(0)
    return out
}
