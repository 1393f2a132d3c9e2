import Foundation
import Testing
@testable import TorchIO

/// Pickles built to hurt the reader: nesting deep enough to overflow the stack when a value is walked or freed,
/// huge lengths and shapes, and globals that would run code in Python. Each must end in a `TorchIOError` or a
/// load, never in a crash.
@Suite("Hostile pickles")
struct HostilePickleTests {
    static let proto2: [UInt8] = [0x80, 0x02]
    static let stop = UInt8(ascii: ".")

    /// Runs the pickle VM on `bytes`.
    static func unpickle(_ bytes: [UInt8]) throws -> PickleValue {
        var unpickler = Unpickler(data: Data(bytes), fileName: "hostile.pkl")
        return try unpickler.load()
    }

    /// `bytes` as the data.pkl of a zip-format .pth, read by `PyTorchCheckpoint.read` as a user's file would be.
    static func readAsCheckpoint(_ bytes: [UInt8]) throws -> PyTorchCheckpoint {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("hostile.pth")
        try ZipStoreWriter.archive([("archive/data.pkl", Data(bytes)), ("archive/version", Data("3\n".utf8))]).write(to: url)
        return try PyTorchCheckpoint.read(url)
    }

    /// The report's case: 100,000 nested lists in 200 KB, built bottom-up on the stack (EMPTY_LIST x N, APPEND x N-1).
    static func nestedLists(_ n: Int) -> [UInt8] {
        proto2 + [UInt8](repeating: UInt8(ascii: "]"), count: n) + [UInt8](repeating: UInt8(ascii: "a"), count: n - 1) + [stop]
    }

    @Test("100,000 nested lists are refused with a clear error, by the pickle VM and by the .pth reader")
    func deepListsAreRefused() throws {
        let bytes = Self.nestedLists(100_000)
        let error = #expect(throws: TorchIOError.self) { try Self.unpickle(bytes) }
        #expect(error?.message.contains("nested more than \(Unpickler.maxDepth) levels deep") == true, "\(String(describing: error))")
        let fromFile = #expect(throws: TorchIOError.self) { try Self.readAsCheckpoint(bytes) }
        #expect(fromFile?.message.contains("hostile.pth") == true && fromFile?.message.contains("nested") == true,
                "\(String(describing: fromFile))")
    }

    @Test("Nesting up to the limit loads, one level more is refused")
    func limitIsExact() throws {
        let n = Unpickler.maxDepth
        var value = try Self.unpickle(Self.nestedLists(n))
        var depth = 0
        while case let .list(list) = value {
            depth += 1
            guard let inner = list.items.first else { break }
            value = inner
        }
        #expect(depth == n)
        #expect(throws: TorchIOError.self) { try Self.unpickle(Self.nestedLists(n + 1)) }
    }

    @Test("Deep tuples, dicts, objects (NEWOBJ through the memo) and BUILD states are refused")
    func otherDeepContainers() throws {
        let n = 50_000
        let tuples = Self.proto2 + [UInt8(ascii: ")")] + [UInt8](repeating: 0x85, count: n) + [Self.stop]  // TUPLE1 x n
        var dicts = Self.proto2
        for _ in 0..<n { dicts += [UInt8(ascii: "}"), UInt8(ascii: "K"), 0] }  // dict, key 0, ...
        dicts += [UInt8(ascii: "}")] + [UInt8](repeating: UInt8(ascii: "s"), count: n) + [Self.stop]
        // obj_{i+1} = mod.Cls(obj_i), each kept only in memo slot 0.
        let global = Array("cmod\nCls\n".utf8)
        var objects = Self.proto2 + global + [UInt8(ascii: ")"), 0x81, UInt8(ascii: "q"), 0, UInt8(ascii: "0")]
        for _ in 0..<n { objects += global + [UInt8(ascii: "h"), 0, 0x85, 0x81, UInt8(ascii: "q"), 0, UInt8(ascii: "0")] }
        objects += [UInt8(ascii: "h"), 0, Self.stop]
        // obj.__setstate__(state) where the state is the previous object.
        var states = Self.proto2 + global + [UInt8(ascii: ")"), 0x81, UInt8(ascii: "q"), 0, UInt8(ascii: "0")]
        for _ in 0..<n { states += global + [UInt8(ascii: ")"), 0x81, UInt8(ascii: "h"), 0, UInt8(ascii: "b"), UInt8(ascii: "q"), 0, UInt8(ascii: "0")] }
        states += [UInt8(ascii: "h"), 0, Self.stop]
        for (name, bytes) in [("tuples", tuples), ("dicts", dicts), ("objects", objects), ("states", states)] {
            let error = #expect(throws: TorchIOError.self, "\(name)") { try Self.unpickle(bytes) }
            #expect(error?.message.contains("nested more than") == true, "\(name): \(String(describing: error))")
        }
    }

    /// Nesting built top-down through the memo (append a new list to the previous leaf) is not seen by the depth
    /// count, which follows values on the stack; freeing it must still not recurse once per level.
    @Test("200,000 lists nested top-down through the memo load and are freed without a stack overflow")
    func topDownNestingIsFreedIteratively() throws {
        let n = 200_000
        var bytes = Self.proto2 + [UInt8(ascii: "]"), UInt8(ascii: "q"), 0]
        // GET leaf, new list, PUT it as the leaf, APPEND it to the old leaf, POP the old leaf.
        for _ in 0..<n { bytes += [UInt8(ascii: "h"), 0, UInt8(ascii: "]"), UInt8(ascii: "q"), 0, UInt8(ascii: "a"), UInt8(ascii: "0")] }
        bytes.append(Self.stop)
        do {
            let root = try Self.unpickle(bytes)
            guard case .list = root else { Issue.record("not a list: \(root.kindDescription)"); return }
        }  // `root` freed here
        // Through the .pth reader: a list is not a state_dict, and everything is freed on the way out.
        let error = #expect(throws: TorchIOError.self) { try Self.readAsCheckpoint(bytes) }
        #expect(error?.message.contains("holds a list, not a dict of tensors") == true, "\(String(describing: error))")
    }

    /// A chain of `n` containers of every kind (list, tuple, dict, object with a state), each holding the next.
    static func nestedTree(_ n: Int) -> PickleValue {
        let root = PickleList()
        var leaf = root
        for i in 0..<n {
            let next = PickleList()
            switch i % 4 {
            case 0: leaf.items.append(.list(next))
            case 1: leaf.items.append(.tuple([.int(i), .list(next)]))
            case 2:
                let dict = PickleDict()
                dict.set(.string("k"), .list(next))
                leaf.items.append(.dict(dict))
            default:
                let object = PickleObject(typeName: "mod.Cls", arguments: [.list(next)])
                object.state = .set(PickleList([.int(i)]))
                leaf.items.append(.object(object))
            }
            leaf = next
        }
        return .list(root)
    }

    @Test("300,000 nested containers of every kind are freed without recursion, also on a small-stack thread")
    func teardownIsIterative() throws {
        do { _ = Self.nestedTree(300_000) }
        // 256 KiB of stack: a recursive release needs about 100 bytes per level.
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { _ = Self.nestedTree(100_000) }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        #expect(done.wait(timeout: .now() + 60) == .success)
    }

    @Test("Huge lengths, memo keys, sizes and shapes are errors, not allocations")
    func hugeSizes() throws {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let streams: [(String, [UInt8])] = [
            ("BINUNICODE8 of 2^62 bytes", Self.proto2 + [0x8D] + le(UInt64(1) << 62) + [Self.stop]),
            ("BINBYTES8 of 2^64-1 bytes", Self.proto2 + [0x8E] + le(UInt64.max) + [Self.stop]),
            ("LONG4 of 2^31-1 bytes", Self.proto2 + [0x8B] + le(Int32.max) + [Self.stop]),
            ("BINSTRING of -1 bytes", Self.proto2 + [UInt8(ascii: "T")] + le(Int32(-1)) + [Self.stop]),
            ("LONG_BINGET of an undefined key", Self.proto2 + [UInt8(ascii: "j")] + le(UInt32.max) + [Self.stop]),
            ("GET of a negative key", Self.proto2 + Array("g-5\n".utf8) + [Self.stop]),
            ("FRAME of 2^63 bytes, then nothing", Self.proto2 + [0x95] + le(UInt64(1) << 63)),
            ("an INT line without an end", Self.proto2 + Array("I12345".utf8)),
        ]
        for (name, bytes) in streams {
            #expect(throws: TorchIOError.self, "\(name)") { try Self.unpickle(bytes) }
        }
        // A tensor of shape [2^40, 2^40] over a 4-element storage.
        var pickle = Self.proto2 + [UInt8(ascii: "}"), UInt8(ascii: "X")] + le(UInt32(1)) + Array("w".utf8)
        pickle += Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [UInt8(ascii: "(")]
        pickle += [UInt8(ascii: "(")] + [UInt8(ascii: "X")] + le(UInt32(7)) + Array("storage".utf8)
        pickle += Array("ctorch\nFloatStorage\n".utf8) + [UInt8(ascii: "X")] + le(UInt32(1)) + Array("0".utf8)
        pickle += [UInt8(ascii: "X")] + le(UInt32(3)) + Array("cpu".utf8) + [UInt8(ascii: "K"), 4, UInt8(ascii: "t"), UInt8(ascii: "Q")]
        pickle += [UInt8(ascii: "K"), 0]
        pickle += [0x8A, 8] + le(Int64(1) << 40) + [0x8A, 8] + le(Int64(1) << 40) + [0x86]
        pickle += [0x8A, 8] + le(Int64(1) << 40) + [UInt8(ascii: "K"), 1, 0x86]
        pickle += [0x89, UInt8(ascii: ")"), UInt8(ascii: "t"), UInt8(ascii: "R"), UInt8(ascii: "s"), Self.stop]
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("huge.pth")
        try ZipStoreWriter.archive([("archive/data.pkl", Data(pickle)), ("archive/data/0", Data(count: 16))]).write(to: url)
        let error = #expect(throws: TorchIOError.self) { try PyTorchCheckpoint.read(url) }
        #expect(error?.message.contains("tensor 'w'") == true, "\(String(describing: error))")
    }

    /// What `pickle.loads` would run in Python (os.system, eval, builtins.exec, subprocess) is modelled as an opaque
    /// object: nothing is called, and the .pth reader says what the file holds.
    @Test("Globals that run code in Python are inert objects, and the .pth reader refuses them by name")
    func codeRunningGlobalsAreInert() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-pwned-\(UUID().uuidString)")
        let command = "touch \(marker.path)"
        func call(_ module: String, _ name: String) -> [UInt8] {
            Self.proto2 + Array("c\(module)\n\(name)\n".utf8) + [UInt8(ascii: "X")]
                + withUnsafeBytes(of: UInt32(command.utf8.count).littleEndian) { Array($0) } + Array(command.utf8)
                + [0x85, UInt8(ascii: "R"), Self.stop]
        }
        for (module, name) in [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"),
                               ("subprocess", "check_output"), ("__builtin__", "getattr")] {
            let value = try Self.unpickle(call(module, name))
            guard case let .object(object) = value else { Issue.record("\(module).\(name): \(value.kindDescription)"); continue }
            #expect(object.typeName == "\(module).\(name)")
            let error = #expect(throws: TorchIOError.self) { try Self.readAsCheckpoint(call(module, name)) }
            #expect(error?.message.contains("pickled \(module).\(name) object") == true, "\(String(describing: error))")
        }
        // The same through INST and OBJ, and a state_dict entry that is such a call.
        let inst = Self.proto2 + [UInt8(ascii: "(")] + Array("S'\(command)'\n".utf8) + Array("ios\nsystem\n".utf8) + [Self.stop]
        let obj = Self.proto2 + [UInt8(ascii: "(")] + Array("cos\nsystem\nS'\(command)'\n".utf8) + [UInt8(ascii: "o"), Self.stop]
        for bytes in [inst, obj] {
            guard case let .object(object) = try Self.unpickle(bytes) else { Issue.record("not opaque"); continue }
            #expect(object.typeName == "os.system")
        }
        let entry = Self.proto2 + [UInt8(ascii: "}"), UInt8(ascii: "X")] + withUnsafeBytes(of: UInt32(1).littleEndian) { Array($0) }
            + Array("w".utf8) + Array(call("os", "system").dropFirst(2).dropLast()) + [UInt8(ascii: "s"), Self.stop]
        let error = #expect(throws: TorchIOError.self) { try Self.readAsCheckpoint(entry) }
        #expect(error?.message.contains("no state_dict found") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }
}
