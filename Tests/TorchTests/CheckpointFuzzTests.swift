import Foundation
import Testing
@testable import TorchIO

/// Random damage to the checked-in safetensors and .pth fixtures, and generated hostile pickles. Every case must
/// end in a load whose tensors agree with their shapes or in a `TorchIOError` that names the file: never a crash,
/// never a hang, never another error type. Seeded, so a failure reproduces; the case number and mutation are in
/// the message.
@Suite("Fuzz: checkpoint readers", .timeLimit(.minutes(2)))
struct CheckpointFuzzTests {
    /// Case counts, sized so that the suite runs in well under a minute on a loaded 2-core machine (debug build).
    static let safetensorsCases = 1_000
    static let smallPthCases = 600
    static let realPickleCases = 120
    static let legacyCases = 120
    static let generatedPickleCases = 2_500

    // MARK: - Targets

    @Test("Mutated safetensors files load consistently or throw TorchIOError")
    func safetensors() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pytorch = CheckpointIOTests.resources.appendingPathComponent("pytorch")
        var fixtures = try ["dtypes", "modules", "optim", "tensor_ops", "functional"].map {
            try Data(contentsOf: pytorch.appendingPathComponent("\($0).safetensors"))
        }
        let large = try Data(contentsOf: CheckpointIOTests.parity("weights.safetensors"))  // 800 KB, 200 tensors
        let url = folder.appendingPathComponent("fuzz.safetensors")
        var mutator = Mutator(seed: 0x5AFE)
        var loaded = 0
        for n in 0..<Self.safetensorsCases {
            let original = n % 20 == 0 ? large : fixtures[n % fixtures.count]
            // Most damage goes to the length field and the JSON header, where the parser works.
            let headerEnd = min(original.count, 8 + Int(original.littleEndian(UInt32.self, at: 0) ?? 0))
            let (data, what) = mutator.mutate(original, focus: 0..<headerEnd)
            try data.write(to: url)
            do {
                let dict = try SafeTensors.read(url)
                try Self.checkConsistent(dict, "case \(n) (\(what))")
                loaded += 1
            } catch let error as TorchIOError {
                #expect(error.message.contains("fuzz.safetensors"), "case \(n) (\(what)): \(error)")
            }
        }
        // Both outcomes occur: damage to names or tensor bytes can still load.
        #expect(loaded > 0 && loaded < Self.safetensorsCases)
    }

    @Test("Mutated small .pth files (whole file: zip records, pickle, storages) load consistently or throw TorchIOError")
    func smallCheckpoints() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("source.pth")
        var dict = HostTensorDict()
        dict["backbone.weight"] = HostTensor(dtype: .float32, shape: [2, 3], bytes: Data((0..<24).map { UInt8($0) }))
        dict["backbone.bias"] = HostTensor(dtype: .float16, shape: [3], bytes: Data([0, 60, 0, 64, 0, 66]))
        dict["head.count"] = HostTensor(dtype: .int64, shape: [], bytes: Data(count: 8))
        try PyTorchCheckpointWriter.write(dict, classes: ["sky", "road"], to: source)
        let original = try Data(contentsOf: source)
        let url = folder.appendingPathComponent("fuzz.pth")
        var mutator = Mutator(seed: 0x9774)
        for n in 0..<Self.smallPthCases {
            let (data, what) = mutator.mutate(original, focus: nil)
            try Self.attemptCheckpoint(data, at: url, "case \(n) (\(what))")
        }
    }

    @Test("A real mmengine pickle (iter_5.pth's data.pkl) mutated and repacked loads consistently or throws")
    func realPickle() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var entries = try CheckpointIOTests.entries(of: "iter_5.pth")
        let index = try #require(entries.firstIndex { $0.0 == "archive/data.pkl" })
        let pickle = Data(Array(entries[index].1))  // indices from 0
        let url = folder.appendingPathComponent("fuzz.pth")
        var mutator = Mutator(seed: 0x1735)
        for n in 0..<Self.realPickleCases {
            let (data, what) = mutator.mutate(pickle, focus: nil)
            entries[index].1 = data
            try Self.attemptCheckpoint(makeZip(entries), at: url, "case \(n) (\(what))")  // no CRCs: the pickle VM meets the damage
        }
    }

    @Test("The legacy torch.save format with damaged pickles and storage records loads consistently or throws")
    func legacyFormat() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try Data(contentsOf: CheckpointIOTests.checkpoint("legacy_format.pth"))
        let url = folder.appendingPathComponent("fuzz.pth")
        var mutator = Mutator(seed: 0x1E6A)
        for n in 0..<Self.legacyCases {
            let (data, what) = mutator.mutate(original, focus: 0..<min(original.count, 40_000))
            try Self.attemptCheckpoint(data, at: url, "case \(n) (\(what))")
        }
    }

    /// A third of the cases are well-formed programs (nested containers, memo references, modelled and unknown
    /// globals), which must load; a third are those programs damaged; a third are random opcode soups.
    @Test("Generated pickles (random opcodes and arguments, deep nesting, huge sizes, unknown globals) never crash")
    func generatedPickles() throws {
        var generator = PickleGenerator(seed: 0x61C0)
        var loaded = 0
        for n in 0..<Self.generatedPickleCases {
            let (bytes, wellFormed) = generator.next(n % 3)
            var unpickler = Unpickler(data: Data(bytes), fileName: "gen.pkl")
            do {
                _ = try unpickler.load()
                loaded += 1
            } catch let error as TorchIOError {
                #expect(!wellFormed, "case \(n): a well-formed pickle failed: \(error)")
                #expect(error.message.contains("gen.pkl"), "case \(n): \(error)")
            }
        }
        #expect(loaded > Self.generatedPickleCases / 3 && loaded < Self.generatedPickleCases)
    }

    // MARK: - Checks

    static func attemptCheckpoint(_ data: Data, at url: URL, _ label: String) throws {
        try data.write(to: url)
        do {
            try checkConsistent(try PyTorchCheckpoint.read(url).stateDict, label)
        } catch let error as TorchIOError {
            #expect(error.message.contains(url.lastPathComponent), "\(label): \(error)")
        }
    }

    /// Every tensor has the bytes its shape and dtype need.
    static func checkConsistent(_ dict: HostTensorDict, _ label: String) throws {
        for (key, tensor) in dict.items {
            #expect(tensor.bytes.count == checkedByteCount(tensor.shape, tensor.dtype), "\(label): '\(key)' \(tensor.shape)")
        }
    }
}

/// Seeded damage: bit flips, byte and integer overwrites, truncation, splices, insertions and deletions.
struct Mutator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }

    /// A position, inside `focus` three times in four when one is given.
    mutating func position(_ count: Int, _ focus: Range<Int>?) -> Int {
        if let focus, !focus.isEmpty, below(4) != 0 { return focus.lowerBound + below(focus.count) }
        return below(count)
    }

    static let interesting: [UInt64] = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                        1 << 40, 1 << 62, 0x7FFF_FFFF_FFFF_FFFF, .max]

    mutating func mutate(_ original: Data, focus: Range<Int>?) -> (Data, String) {
        var data = Data(original)  // indices from 0
        guard data.count > 1 else { return (data, "none") }
        switch below(7) {
        case 0:
            let flips = 1 + below(8)
            for _ in 0..<flips {
                let p = position(data.count, focus)
                data[p] ^= UInt8(1) << UInt8(below(8))
            }
            return (data, "\(flips) bit flips")
        case 1:
            let p = position(data.count, focus)
            data[p] = UInt8(truncatingIfNeeded: Self.interesting[below(Self.interesting.count)] &+ UInt64(below(3)))
            return (data, "byte at \(p)")
        case 2:
            let width = [2, 4, 8][below(3)]
            let p = min(position(data.count, focus), data.count - width)
            guard p >= 0 else { return (data, "none") }
            var value = Self.interesting[below(Self.interesting.count)].littleEndian
            withUnsafeBytes(of: &value) { data.replaceSubrange(p..<p + width, with: $0.prefix(width)) }
            return (data, "\(width)-byte integer at \(p)")
        case 3:
            let length = below(data.count)
            return (data.prefix(length), "truncated to \(length)")
        case 4:
            let length = 1 + below(min(64, data.count - 1))
            let from = below(data.count - length), to = min(position(data.count, focus), data.count - length)
            data.replaceSubrange(to..<to + length, with: data[from..<from + length])
            return (data, "\(length) bytes copied from \(from) to \(to)")
        case 5:
            let p = position(data.count, focus)
            let length = 1 + below(32)
            data.insert(contentsOf: (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: p)
            return (data, "\(length) bytes inserted at \(p)")
        default:
            let p = position(data.count, focus)
            let length = min(1 + below(32), data.count - p)
            data.removeSubrange(p..<p + length)
            return (data, "\(length) bytes deleted at \(p)")
        }
    }
}

/// Random pickle programs: valid opcodes with plausible or hostile arguments, now and then deep nesting, huge
/// lengths, globals that would run code in Python, and raw garbage.
struct PickleGenerator {
    var m: Mutator

    init(seed: UInt64) { m = Mutator(seed: seed) }

    private static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    static let globals: [(String, String)] = [
        ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
        ("torch", "FloatStorage"), ("torch", "float32"), ("torch", "Size"), ("builtins", "set"), ("_codecs", "encode"),
        ("torch._tensor", "_rebuild_from_type_v2"), ("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"),
        ("numpy.core.multiarray", "_reconstruct"), ("", ""),
    ]

    mutating func op() -> [UInt8] {
        func byte(_ c: Character) -> UInt8 { c.asciiValue! }
        let k = m.below(40)
        switch k {
        case 0: return [byte("(")]
        case 1: return [byte("]")]
        case 2: return [byte("}")]
        case 3: return [byte(")")]
        case 4: return [0x8F]  // EMPTY_SET
        case 5: return [byte("a")]
        case 6: return [byte("e")]
        case 7: return [byte("s")]
        case 8: return [byte("u")]
        case 9: return [byte("t")]
        case 10: return [0x85 + UInt8(m.below(3))]  // TUPLE1-3
        case 11: return [byte("l")]
        case 12: return [byte("d")]
        case 13: return [byte("K"), UInt8(m.below(256))]
        case 14: return [byte("J")] + Self.le(Int32(truncatingIfNeeded: m.rng.next()))
        case 15: return [0x8A, UInt8(m.below(12))] + (0..<m.below(12)).map { _ in UInt8(m.below(256)) }  // LONG1, maybe short
        case 16:
            let text = ["storage", "cpu", "0", "state_dict", "meta", "w", "CLASSES", "latin1", "é✓"][m.below(9)]
            return [byte("X")] + Self.le(UInt32(text.utf8.count)) + Array(text.utf8)
        case 17: return [0x8C, UInt8(m.below(8))] + Array("abcdefgh".utf8.prefix(m.below(8)))  // SHORT_BINUNICODE
        case 18: return [byte("q"), UInt8(m.below(4))]  // BINPUT
        case 19: return [byte("h"), UInt8(m.below(4))]  // BINGET
        case 20: return [0x94]  // MEMOIZE
        case 21:
            let (module, name) = Self.globals[m.below(Self.globals.count)]
            return [byte("c")] + Array("\(module)\n\(name)\n".utf8)
        case 22: return [0x93]  // STACK_GLOBAL
        case 23: return [byte("R")]
        case 24: return [0x81]  // NEWOBJ
        case 25: return [byte("b")]  // BUILD
        case 26: return [byte("Q")]  // BINPERSID
        case 27: return [byte("0")]
        case 28: return [byte("2")]
        case 29: return [byte("1")]
        case 30: return [byte("N")]
        case 31: return [0x88 + UInt8(m.below(2))]
        case 32: return [byte("G")] + (0..<8).map { _ in UInt8(m.below(256)) }
        case 33: return [byte("o")]
        case 34: return [byte("i")] + Array("os\nsystem\n".utf8)
        case 35:
            // Deep nesting around the limit: lists bottom-up, or tuples.
            let n = Unpickler.maxDepth - 2 + m.below(5)
            return m.below(2) == 0
                ? [UInt8](repeating: byte("]"), count: n) + [UInt8](repeating: byte("a"), count: n - 1)
                : [byte(")")] + [UInt8](repeating: 0x85, count: n)
        case 36:
            // A length field far beyond the data.
            let opcodes: [UInt8] = [byte("X"), byte("B"), 0x8D, 0x8E, 0x96, byte("T"), 0x8B]
            let opcode = opcodes[m.below(opcodes.count)]
            let value = Mutator.interesting[m.below(Mutator.interesting.count)]
            let length: [UInt8] = [0x8D, 0x8E, 0x96].contains(opcode) ? Self.le(value) : Self.le(UInt32(truncatingIfNeeded: value))
            return [opcode] + length
        case 37: return [0x95] + Self.le(m.rng.next())  // FRAME
        case 38: return [byte("j")] + Self.le(UInt32(truncatingIfNeeded: m.rng.next())) // LONG_BINGET
        default: return (0..<1 + m.below(4)).map { _ in UInt8(m.below(256)) }  // garbage
        }
    }

    /// A well-formed program that pushes one value: scalars, strings, containers filled as pickle fills them
    /// (memoized, then APPENDS/SETITEMS), memo references, and calls of modelled and unknown globals.
    mutating func value(depth: Int) -> [UInt8] {
        func byte(_ c: Character) -> UInt8 { c.asciiValue! }
        let leaf = depth >= 6 || m.below(3) == 0
        switch leaf ? m.below(5) : 5 + m.below(5) {
        case 0: return [byte("K"), UInt8(m.below(256))]
        case 1: return [byte("J")] + Self.le(Int32(truncatingIfNeeded: m.rng.next()))
        case 2: return [byte("N")]
        case 3: return [byte("G")] + Self.le(m.rng.next()).reversed()
        case 4:
            let text = String(repeating: "é✓x", count: m.below(4))
            return [byte("X")] + Self.le(UInt32(text.utf8.count)) + Array(text.utf8)
        case 5:
            var out: [UInt8] = [byte("]"), byte("q"), UInt8(m.below(8)), byte("(")]
            for _ in 0..<m.below(5) { out += value(depth: depth + 1) }
            return out + [byte("e")]
        case 6:
            var out: [UInt8] = [byte("}"), 0x94, byte("(")]
            for _ in 0..<m.below(5) { out += value(depth: depth + 1) + value(depth: depth + 1) }
            return out + [byte("u")]
        case 7:
            var out: [UInt8] = [byte("(")]
            for _ in 0..<m.below(4) { out += value(depth: depth + 1) }
            return out + [byte("t")]
        case 8:
            // A call: OrderedDict(), set([...]), or an unknown class that absorbs its arguments and state.
            let (module, name) = [("collections", "OrderedDict"), ("builtins", "set"), ("os", "system"), ("mmengine", "Cfg")][m.below(4)]
            var out = [byte("c")] + Array("\(module)\n\(name)\n".utf8) + [byte("(")]
            if name == "set" { out += [byte("]"), byte("(")] + value(depth: depth + 1) + [byte("e")] }
            out += [byte("t"), byte("R")]
            if name == "Cfg" { out += value(depth: depth + 1) + [byte("b")] }
            return out
        default:
            // A memoized value used twice: DUP-free sharing through PUT/GET.
            let slot = UInt8(100 + m.below(50))
            return [byte("(")] + value(depth: depth + 1) + [byte("q"), slot, byte("h"), slot, 0x86, byte("1")]
                + [byte("h"), slot]
        }
    }

    /// `kind` 0: a well-formed program (true), 1: one damaged by `Mutator`, 2: a random soup of opcodes.
    mutating func next(_ kind: Int) -> ([UInt8], Bool) {
        switch kind {
        case 0: return ([0x80, 2] + value(depth: 0) + [UInt8(ascii: ".")], true)
        case 1:
            let program = Data([0x80, 2] + value(depth: 0) + [UInt8(ascii: ".")])
            return ([UInt8](m.mutate(program, focus: nil).0), false)
        default:
            var bytes: [UInt8] = [0x80, UInt8(m.below(6))]
            for _ in 0..<1 + m.below(40) { bytes += op() }
            if m.below(10) != 0 { bytes.append(UInt8(ascii: ".")) }
            return (bytes, false)
        }
    }
}
