import Foundation

/// What the unpickler builds. Containers are classes because pickle mutates them after they are
/// memoized (EMPTY_LIST, BINPUT, then APPENDS), and every memo reference must see the change.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits (LONG1/LONG4): little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes(Data)
    case tuple([PickleValue])
    case list(PickleList)
    case set(PickleList)
    case dict(PickleDict)
    /// A class or function named by GLOBAL / STACK_GLOBAL, not yet called.
    case global(module: String, name: String)
    /// An instance of a class this reader does not model (numpy arrays, mmengine objects, ...):
    /// it absorbs REDUCE/NEWOBJ arguments, BUILD state and SETITEMS/APPENDS so it can be stepped over.
    case object(PickleObject)
    /// A `torch.<dtype>` global (`torch.float32`).
    case dtype(DType)
    /// A storage named by a persistent id (`('storage', torch.FloatStorage, key, location, numel)`).
    case storage(TorchStorageRef)
    /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2`; its bytes are read only on demand.
    case tensor(TorchTensorRef)

    var intValue: Int? {
        switch self {
        case let .int(v): return v
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    var dictValue: PickleDict? {
        if case let .dict(d) = self { return d }
        return nil
    }

    /// The elements of a tuple, list or set.
    var sequenceValue: [PickleValue]? {
        switch self {
        case let .tuple(items): return items
        case let .list(list), let .set(list): return list.items
        default: return nil
        }
    }

    /// A short description for error messages (never recursive, so cycles are harmless).
    var kindDescription: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .set: return "set"
        case .dict: return "dict"
        case let .global(module, name): return "\(module).\(name)"
        case let .object(object): return "\(object.typeName) object"
        case .dtype: return "dtype"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
    deinit { PickleTeardown.release(&items) }
}

/// An insertion-ordered dict. Keys that are strings, ints or tuples of those replace an earlier
/// equal key as in Python; other keys (floats, objects) are kept side by side.
final class PickleDict {
    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var index: [PickleKey: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let hashKey = PickleKey(key) {
            if let i = index[hashKey] {
                entries[i].value = value
                return
            }
            index[hashKey] = entries.count
        }
        entries.append((key, value))
    }

    subscript(key: String) -> PickleValue? {
        index[.string(key)].map { entries[$0].value }
    }

    var count: Int { entries.count }

    deinit {
        var values = entries.flatMap { [$0.key, $0.value] }
        entries = []
        PickleTeardown.release(&values)
    }
}

private indirect enum PickleKey: Hashable {
    case string(String)
    case int(Int)
    case none
    case tuple([PickleKey])

    init?(_ value: PickleValue) {
        switch value {
        case let .string(s): self = .string(s)
        case let .int(i): self = .int(i)
        case let .bool(b): self = .int(b ? 1 : 0)
        case .none: self = .none
        case let .tuple(items):
            let keys = items.compactMap(PickleKey.init)
            guard keys.count == items.count else { return nil }
            self = .tuple(keys)
        default: return nil
        }
    }
}

final class PickleObject {
    /// `module.name` of the class or function that made it.
    let typeName: String
    var arguments: [PickleValue]
    var state: PickleValue?
    let dictItems = PickleDict()
    let listItems = PickleList()

    init(typeName: String, arguments: [PickleValue]) {
        self.typeName = typeName
        self.arguments = arguments
    }

    deinit {
        var values = arguments + (state.map { [$0] } ?? [])
        arguments = []
        state = nil
        PickleTeardown.release(&values)
    }
}

/// Frees nested values without recursion. Swift releases a nested value one level per stack frame, so a hostile
/// file of 100,000 nested lists would overflow the stack on the way out even if it parsed. A container's deinit
/// hands its elements to a per-thread queue instead, and only the outermost deinit on a thread drains it
/// (CPython's "trashcan"); tuples met in the queue are opened up too. Chains of tuples outside any container are
/// bounded by the unpickler's depth limit.
enum PickleTeardown {
    private final class Queue {
        var pending: [PickleValue] = []
        var draining = false
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { raw in
            if let raw = raw as UnsafeMutableRawPointer? { Unmanaged<Queue>.fromOpaque(raw).release() }
        }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    private static var queue: Queue {
        if let raw = pthread_getspecific(key) { return Unmanaged<Queue>.fromOpaque(raw).takeUnretainedValue() }
        let queue = Queue()
        pthread_setspecific(key, Unmanaged.passRetained(queue).toOpaque())
        return queue
    }

    /// Takes `values` (a dying container's elements, moved out of it so that the queue holds their only references).
    static func release(_ values: inout [PickleValue]) {
        guard !values.isEmpty else { return }
        let queue = queue
        queue.pending.append(contentsOf: values)
        values = []
        guard !queue.draining else { return }
        queue.draining = true
        while let value = queue.pending.popLast() {
            if case let .tuple(items) = value { queue.pending.append(contentsOf: items) }
            // `value` is released here; a container it held last queues its own elements and returns.
        }
        queue.draining = false
    }
}
