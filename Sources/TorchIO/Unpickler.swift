import Foundation

/// A pickle virtual machine (protocols 0-5, in practice 2 as `torch.save` writes) that builds
/// `PickleValue`s instead of Python objects. It calls no code: the few globals a checkpoint needs
/// (OrderedDict, torch's tensor rebuild functions, dtypes, set) are modelled, every other global
/// becomes an opaque `PickleObject` that absorbs whatever is applied to it, so numpy arrays and
/// mmengine objects are stepped over.
struct Unpickler {
    private let data: Data
    private(set) var position: Int
    private let fileName: String
    private let operation: String
    private let persistentLoad: (PickleValue) throws -> PickleValue

    /// Values with their nesting depth (0 for scalars, 1 + the deepest element for containers), so that a
    /// hostile file cannot build values nested deeper than `maxDepth`: everything that walks or frees a value
    /// would recurse once per level.
    private struct Slot {
        var value: PickleValue
        var depth: Int
    }

    /// Checkpoints nest a few levels; 1,000 is far beyond any real file and far below what recursion survives.
    static let maxDepth = 1_000

    private var stack: [Slot] = []
    private var marks: [Int] = []
    private var memo: [Int: Slot] = [:]
    private var opcodeStart = 0

    /// - Parameters:
    ///   - start: byte offset of the pickle in `data` (the legacy format holds several in a row).
    ///   - persistentLoad: resolves BINPERSID / PERSID ids (torch's storages).
    init(data: Data, start: Int = 0, fileName: String, operation: String = "pickle",
         persistentLoad: @escaping (PickleValue) throws -> PickleValue = { _ in .none }) {
        self.data = data
        self.position = start
        self.fileName = fileName
        self.operation = operation
        self.persistentLoad = persistentLoad
    }

    /// Runs until STOP and returns the pickled object; `position` is then just past the STOP.
    mutating func load() throws -> PickleValue {
        stack = []
        marks = []
        memo = [:]
        while true {
            opcodeStart = position
            let opcode = try readByte()
            if opcode == Opcode.stop {
                guard let result = stack.last, stack.count == 1 else {
                    throw fail("STOP with \(stack.count) values on the stack instead of 1")
                }
                return result.value
            }
            try execute(opcode)
        }
    }

    // MARK: - Errors

    private func fail(_ message: String) -> TorchIOError {
        TorchIOError(operation, "\(fileName): pickle: \(message) (at byte \(opcodeStart))")
    }

    // MARK: - Reading bytes

    private mutating func readByte() throws -> UInt8 {
        guard position < data.count else { throw fail("unexpected end of data (truncated file?)") }
        defer { position += 1 }
        return data[data.startIndex + position]
    }

    private mutating func read<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let value = data.littleEndian(T.self, at: position) else { throw fail("unexpected end of data (truncated file?)") }
        position += MemoryLayout<T>.size
        return value
    }

    private mutating func readBytes(_ length: Int) throws -> Data {
        guard let bytes = data.bytes(at: position, length: length) else {
            throw fail("a \(length)-byte value runs past the end of the data (truncated file?)")
        }
        position += length
        return bytes
    }

    private mutating func readLength<T: FixedWidthInteger>(_ type: T.Type) throws -> Int {
        let raw = try read(T.self)
        guard raw >= 0, UInt64(raw) <= UInt64(data.count) else { throw fail("length \(raw) is larger than the data") }
        return Int(raw)
    }

    /// A newline-terminated text argument (protocol 0 opcodes, GLOBAL).
    private mutating func readLine() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = try readByte()
            if byte == 0x0A { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Stack

    private mutating func push(_ value: PickleValue, depth: Int = 0) { stack.append(Slot(value: value, depth: depth)) }

    private mutating func popSlot() throws -> Slot {
        guard let slot = stack.popLast() else { throw fail("stack underflow") }
        if let mark = marks.last, stack.count < mark { throw fail("pop across a MARK") }
        return slot
    }

    private mutating func pop() throws -> PickleValue { try popSlot().value }

    private func topSlot() throws -> Slot {
        guard let slot = stack.last else { throw fail("stack underflow") }
        return slot
    }

    private func top() throws -> PickleValue { try topSlot().value }

    /// The values pushed since the last MARK, removing them and the mark.
    private mutating func popToMark() throws -> [Slot] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    /// The depth of a container holding `elements`; throws beyond `maxDepth`.
    private func containerDepth(_ elements: [Slot]) throws -> Int {
        let depth = 1 + (elements.lazy.map(\.depth).max() ?? 0)
        guard depth <= Self.maxDepth else {
            throw fail("values are nested more than \(Self.maxDepth) levels deep (a corrupt or hostile file)")
        }
        return depth
    }

    /// Records that the container on top of the stack now also holds `elements`.
    private mutating func deepenTop(_ elements: [Slot]) throws {
        let depth = try containerDepth(elements)
        stack[stack.count - 1].depth = max(stack[stack.count - 1].depth, depth)
    }

    private func memoKey(_ raw: Int) throws -> Int {
        guard raw >= 0 else { throw fail("negative memo key") }
        return raw
    }

    private func memoValue(_ key: Int) throws -> Slot {
        guard let slot = memo[key] else { throw fail("memo key \(key) is not defined") }
        return slot
    }

    // MARK: - Opcodes

    private mutating func execute(_ opcode: UInt8) throws {
        switch opcode {
        case Opcode.proto:
            let version = try readByte()
            guard version <= 5 else { throw fail("unsupported pickle protocol \(version)") }
        case Opcode.frame: _ = try read(UInt64.self)  // framing only groups opcodes; ignore it
        case Opcode.mark: marks.append(stack.count)
        case Opcode.pop:
            if let mark = marks.last, mark == stack.count { marks.removeLast() } else { _ = try pop() }
        case Opcode.popMark: _ = try popToMark()
        case Opcode.dup: stack.append(try topSlot())

        // Constants and numbers
        case Opcode.none: push(.none)
        case Opcode.newTrue: push(.bool(true))
        case Opcode.newFalse: push(.bool(false))
        case Opcode.binInt: push(.int(Int(try read(Int32.self))))
        case Opcode.binInt1: push(.int(Int(try readByte())))
        case Opcode.binInt2: push(.int(Int(try read(UInt16.self))))
        case Opcode.long1: push(try readLong(length: Int(try readByte())))
        case Opcode.long4: push(try readLong(length: try readLength(Int32.self)))
        case Opcode.binFloat:
            let bits = UInt64(bigEndian: try readBytes(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            push(.float(Double(bitPattern: bits)))
        case Opcode.int:
            let line = try readLine()
            switch line {
            case "00": push(.bool(false))
            case "01": push(.bool(true))
            default:
                guard let value = Int(line) else { throw fail("invalid INT '\(line)'") }
                push(.int(value))
            }
        case Opcode.long:
            let line = try readLine()
            let digits = line.hasSuffix("L") ? String(line.dropLast()) : line
            push(Int(digits).map(PickleValue.int) ?? .bigInt([]))
        case Opcode.float:
            let line = try readLine()
            guard let value = Double(line) else { throw fail("invalid FLOAT '\(line)'") }
            push(.float(value))

        // Strings and bytes
        case Opcode.binUnicode: push(try unicode(try readBytes(try readLength(UInt32.self))))
        case Opcode.shortBinUnicode: push(try unicode(try readBytes(Int(try readByte()))))
        case Opcode.binUnicode8: push(try unicode(try readBytes(try readLength(UInt64.self))))
        case Opcode.unicode: push(.string(try readLine()))
        case Opcode.binString: push(legacyString(try readBytes(try readLength(Int32.self))))
        case Opcode.shortBinString: push(legacyString(try readBytes(Int(try readByte()))))
        case Opcode.string:
            var line = try readLine()
            if line.count >= 2, let q = line.first, q == "'" || q == "\"", line.last == q { line = String(line.dropFirst().dropLast()) }
            push(.string(line))
        case Opcode.binBytes: push(.bytes(try readBytes(try readLength(UInt32.self))))
        case Opcode.shortBinBytes: push(.bytes(try readBytes(Int(try readByte()))))
        case Opcode.binBytes8, Opcode.byteArray8: push(.bytes(try readBytes(try readLength(UInt64.self))))

        // Containers
        case Opcode.emptyList: push(.list(PickleList()), depth: 1)
        case Opcode.list: try pushContainer(try popToMark()) { .list(PickleList($0)) }
        case Opcode.emptyTuple: push(.tuple([]), depth: 1)
        case Opcode.tuple: try pushContainer(try popToMark()) { .tuple($0) }
        case Opcode.tuple1:
            let a = try popSlot()
            try pushContainer([a]) { .tuple($0) }
        case Opcode.tuple2:
            let b = try popSlot(), a = try popSlot()
            try pushContainer([a, b]) { .tuple($0) }
        case Opcode.tuple3:
            let c = try popSlot(), b = try popSlot(), a = try popSlot()
            try pushContainer([a, b, c]) { .tuple($0) }
        case Opcode.emptyDict: push(.dict(PickleDict()), depth: 1)
        case Opcode.dict:
            let items = try popToMark()
            let dict = PickleDict()
            try setItems(items.map(\.value), into: .dict(dict))
            push(.dict(dict), depth: try containerDepth(items))
        case Opcode.emptySet: push(.set(PickleList()), depth: 1)
        case Opcode.frozenSet: try pushContainer(try popToMark()) { .set(PickleList($0)) }
        case Opcode.append:
            let value = try popSlot()
            try append([value.value], to: try top())
            try deepenTop([value])
        case Opcode.appends, Opcode.addItems:
            let items = try popToMark()
            try append(items.map(\.value), to: try top())
            try deepenTop(items)
        case Opcode.setItem:
            let value = try popSlot(), key = try popSlot()
            try setItems([key.value, value.value], into: try top())
            try deepenTop([key, value])
        case Opcode.setItems:
            let items = try popToMark()
            try setItems(items.map(\.value), into: try top())
            try deepenTop(items)

        // Memo
        case Opcode.put: memo[try memoKey(try parseInt(try readLine()))] = try topSlot()
        case Opcode.binPut: memo[Int(try readByte())] = try topSlot()
        case Opcode.longBinPut: memo[Int(try read(UInt32.self))] = try topSlot()
        case Opcode.memoize: memo[memo.count] = try topSlot()
        case Opcode.get: stack.append(try memoValue(try parseInt(try readLine())))
        case Opcode.binGet: stack.append(try memoValue(Int(try readByte())))
        case Opcode.longBinGet: stack.append(try memoValue(Int(try read(UInt32.self))))

        // Objects
        case Opcode.global:
            let module = try readLine(), name = try readLine()
            push(Self.global(module: module, name: name))
        case Opcode.stackGlobal:
            let name = try pop(), module = try pop()
            guard let n = name.stringValue, let m = module.stringValue else { throw fail("STACK_GLOBAL needs two strings") }
            push(Self.global(module: m, name: n))
        case Opcode.reduce:
            let args = try popSlot(), callable = try popSlot()
            guard let arguments = args.value.sequenceValue else {
                throw fail("REDUCE arguments are a \(args.value.kindDescription), not a tuple")
            }
            push(try call(callable.value, arguments), depth: try containerDepth([callable, args]))
        case Opcode.newObj:
            let args = try popSlot(), cls = try popSlot()
            push(try call(cls.value, args.value.sequenceValue ?? [args.value]), depth: try containerDepth([cls, args]))
        case Opcode.newObjEx:
            _ = try pop()  // keyword arguments: not needed by any modelled class
            let args = try popSlot(), cls = try popSlot()
            push(try call(cls.value, args.value.sequenceValue ?? [args.value]), depth: try containerDepth([cls, args]))
        case Opcode.build:
            let state = try popSlot()
            if case let .object(object) = try top() {
                object.state = state.value
                try deepenTop([state])
            }
            // BUILD on anything else (OrderedDict's `_metadata`, tensors) carries nothing we need.
        case Opcode.inst:
            let module = try readLine(), name = try readLine()
            let args = try popToMark()
            push(try call(Self.global(module: module, name: name), args.map(\.value)), depth: try containerDepth(args))
        case Opcode.obj:
            var items = try popToMark()
            guard !items.isEmpty else { throw fail("OBJ without a class") }
            let cls = items.removeFirst()
            push(try call(cls.value, items.map(\.value)), depth: try containerDepth([cls] + items))
        case Opcode.binPersId:
            let pid = try popSlot()
            push(try persistentLoad(pid.value), depth: try containerDepth([pid]))
        case Opcode.persId:
            push(try persistentLoad(.string(try readLine())))
        case Opcode.ext1, Opcode.ext2, Opcode.ext4:
            throw fail("extension registry opcodes (EXT1/2/4) are not supported")
        case Opcode.nextBuffer, Opcode.readonlyBuffer:
            throw fail("out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not supported")
        default:
            throw fail(String(format: "unknown opcode 0x%02x (not a pickle, or a corrupt one)", opcode))
        }
    }

    private mutating func pushContainer(_ elements: [Slot], _ make: ([PickleValue]) -> PickleValue) throws {
        push(make(elements.map(\.value)), depth: try containerDepth(elements))
    }

    private func parseInt(_ line: String) throws -> Int {
        guard let value = Int(line) else { throw fail("invalid integer '\(line)'") }
        return try memoKey(value)
    }

    private func unicode(_ bytes: Data) throws -> PickleValue {
        guard let s = String(data: bytes, encoding: .utf8) else { throw fail("string is not valid UTF-8") }
        return .string(s)
    }

    /// Python 2 `str`: text when it is UTF-8 (as torch.load's default encoding decodes it), else Latin-1.
    private func legacyString(_ bytes: Data) -> PickleValue {
        .string(String(data: bytes, encoding: .utf8) ?? String(decoding: bytes.map { UInt16($0) }, as: UTF16.self))
    }

    /// LONG1/LONG4: little-endian two's complement of `length` bytes.
    private mutating func readLong(length: Int) throws -> PickleValue {
        let bytes = [UInt8](try readBytes(length))
        guard let lastByte = bytes.last else { return .int(0) }
        let negative = lastByte & 0x80 != 0
        // Bytes beyond the 8th that only repeat the sign do not change the value.
        let significant = bytes.count > 8 && bytes[8...].allSatisfy({ $0 == (negative ? 0xFF : 0) })
            && (bytes[7] & 0x80 != 0) == negative ? Array(bytes[..<8]) : bytes
        guard significant.count <= 8 else { return .bigInt(bytes) }
        var value: UInt64 = negative ? .max : 0
        for (i, byte) in significant.enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            value |= UInt64(byte) << (8 * UInt64(i))
        }
        return .int(Int(bitPattern: UInt(value)))
    }

    private func append(_ items: [PickleValue], to target: PickleValue) throws {
        switch target {
        case let .list(list), let .set(list): list.items.append(contentsOf: items)
        case let .object(object): object.listItems.items.append(contentsOf: items)
        default: throw fail("APPEND to a \(target.kindDescription)")
        }
    }

    private func setItems(_ items: [PickleValue], into target: PickleValue) throws {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        let dict: PickleDict
        switch target {
        case let .dict(d): dict = d
        case let .object(object): dict = object.dictItems
        default: throw fail("SETITEM on a \(target.kindDescription)")
        }
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
    }

    // MARK: - Globals

    /// Globals are values until called; dtypes are recognised right away because torch uses
    /// them as plain values (`torch.float32`).
    private static func global(module: String, name: String) -> PickleValue {
        if module == "torch", let dtype = DType(name: name), name != "Size" { return .dtype(dtype) }
        return .global(module: module, name: name)
    }

    /// REDUCE / NEWOBJ: the modelled globals are evaluated, everything else becomes opaque.
    private func call(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case let .global(module, name) = callable else {
            return .object(PickleObject(typeName: "<result of calling \(callable.kindDescription)>", arguments: args))
        }
        switch (module, name) {
        case ("collections", "OrderedDict"), ("builtins", "dict"), ("__builtin__", "dict"):
            let dict = PickleDict()
            for pair in args.first?.sequenceValue ?? [] {
                if let kv = pair.sequenceValue, kv.count == 2 { dict.set(kv[0], kv[1]) }
            }
            return .dict(dict)
        case ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("__builtin__", "frozenset"):
            return .set(PickleList(args.first?.sequenceValue ?? []))
        case ("builtins", "list"), ("__builtin__", "list"):
            return .list(PickleList(args.first?.sequenceValue ?? []))
        case ("builtins", "tuple"), ("__builtin__", "tuple"), ("torch", "Size"):
            return .tuple(args.first?.sequenceValue ?? [])
        case ("_codecs", "encode"):
            // How protocol 2 pickles `bytes`: encode(text, "latin1").
            if let text = args.first?.stringValue, args.count < 2 || args[1].stringValue == "latin1" {
                return .bytes(Data(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
            }
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            return .tensor(try rebuildTensor(name, args))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"),
             ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor"):
            // A Parameter (or device tensor) pickles the plain tensor as its first argument.
            if let data = args.first, case .tensor = data { return data }
        case ("torch._tensor", "_rebuild_from_type_v2"):
            // (function, subclass, arguments, state): rebuild with the function, drop the subclass.
            // Not recursively: a hostile file could nest this call until the stack overflows.
            if args.count >= 3, let inner = args[2].sequenceValue, case let .global(m, n) = args[0], n != name || m != module {
                return try call(args[0], inner)
            }
        default:
            break
        }
        return .object(PickleObject(typeName: "\(module).\(name)", arguments: args))
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ name: String, _ args: [PickleValue]) throws -> TorchTensorRef {
        guard args.count >= 4, case let .storage(storage) = args[0], let offset = args[1].intValue,
              let sizeValues = args[2].sequenceValue, let strideValues = args[3].sequenceValue
        else { throw fail("\(name) expects (storage, offset, size, stride, ...), got (\(args.map(\.kindDescription).joined(separator: ", ")))") }
        let shape = sizeValues.compactMap(\.intValue), stride = strideValues.compactMap(\.intValue)
        guard shape.count == sizeValues.count, stride.count == strideValues.count else {
            throw fail("\(name): size and stride must be tuples of integers")
        }
        return TorchTensorRef(storage: storage, storageOffset: offset, shape: shape, stride: stride)
    }
}

/// Pickle opcodes (CPython's Lib/pickle.py names).
private enum Opcode {
    static let mark = UInt8(ascii: "("), stop = UInt8(ascii: "."), pop = UInt8(ascii: "0"), popMark = UInt8(ascii: "1")
    static let dup = UInt8(ascii: "2"), float = UInt8(ascii: "F"), int = UInt8(ascii: "I"), binInt = UInt8(ascii: "J")
    static let binInt1 = UInt8(ascii: "K"), long = UInt8(ascii: "L"), binInt2 = UInt8(ascii: "M"), none = UInt8(ascii: "N")
    static let persId = UInt8(ascii: "P"), binPersId = UInt8(ascii: "Q"), reduce = UInt8(ascii: "R"), string = UInt8(ascii: "S")
    static let binString = UInt8(ascii: "T"), shortBinString = UInt8(ascii: "U"), unicode = UInt8(ascii: "V")
    static let binUnicode = UInt8(ascii: "X"), append = UInt8(ascii: "a"), build = UInt8(ascii: "b"), global = UInt8(ascii: "c")
    static let dict = UInt8(ascii: "d"), emptyDict = UInt8(ascii: "}"), appends = UInt8(ascii: "e"), get = UInt8(ascii: "g")
    static let binGet = UInt8(ascii: "h"), inst = UInt8(ascii: "i"), longBinGet = UInt8(ascii: "j"), list = UInt8(ascii: "l")
    static let emptyList = UInt8(ascii: "]"), obj = UInt8(ascii: "o"), put = UInt8(ascii: "p"), binPut = UInt8(ascii: "q")
    static let longBinPut = UInt8(ascii: "r"), setItem = UInt8(ascii: "s"), tuple = UInt8(ascii: "t"), emptyTuple = UInt8(ascii: ")")
    static let setItems = UInt8(ascii: "u"), binFloat = UInt8(ascii: "G")
    // Protocol 2
    static let proto: UInt8 = 0x80, newObj: UInt8 = 0x81, ext1: UInt8 = 0x82, ext2: UInt8 = 0x83, ext4: UInt8 = 0x84
    static let tuple1: UInt8 = 0x85, tuple2: UInt8 = 0x86, tuple3: UInt8 = 0x87, newTrue: UInt8 = 0x88, newFalse: UInt8 = 0x89
    static let long1: UInt8 = 0x8A, long4: UInt8 = 0x8B
    // Protocol 3
    static let binBytes = UInt8(ascii: "B"), shortBinBytes = UInt8(ascii: "C")
    // Protocol 4
    static let shortBinUnicode: UInt8 = 0x8C, binUnicode8: UInt8 = 0x8D, binBytes8: UInt8 = 0x8E, emptySet: UInt8 = 0x8F
    static let addItems: UInt8 = 0x90, frozenSet: UInt8 = 0x91, newObjEx: UInt8 = 0x92, stackGlobal: UInt8 = 0x93
    static let memoize: UInt8 = 0x94, frame: UInt8 = 0x95
    // Protocol 5
    static let byteArray8: UInt8 = 0x96, nextBuffer: UInt8 = 0x97, readonlyBuffer: UInt8 = 0x98
}
