#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Observes the operators of a real forward pass (used by the FLOP counter). Functional ops report
/// their name, input and output shapes and a few attributes while a recorder is active; otherwise
/// the cost is a single nil check.
public struct OpEvent: Sendable {
    public let op: String
    public let inputs: [[Int]]
    public let output: [Int]
    /// Op attributes the counter needs (kernel size, groups, ...).
    public let attributes: [String: Int]
    /// The enclosing scopes, outermost first (e.g. ["backbone", "attention"]).
    public let scopes: [String]
}

public final class OpRecorder: @unchecked Sendable {
    /// The recorder of the calling thread (thread-local, so parallel work is never mixed up).
    public static var active: OpRecorder? {
        get { pthread_getspecific(key).map { Unmanaged<OpRecorder>.fromOpaque($0).takeUnretainedValue() } }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<OpRecorder>.fromOpaque(old).release() }
            pthread_setspecific(key, newValue.map { Unmanaged.passRetained($0).toOpaque() })
        }
    }
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    public private(set) var events: [OpEvent] = []
    private var scopes: [String] = []

    public init() {}

    /// Runs `body` with this recorder active and returns what it returned.
    public func record<R>(_ body: () throws -> R) rethrows -> R {
        let previous = OpRecorder.active
        OpRecorder.active = self
        defer { OpRecorder.active = previous }
        return try body()
    }

    /// Marks the ops inside `body` as belonging to `name` (nests).
    @inline(__always)
    public static func scope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard let r = active else { return try body() }
        r.scopes.append(name)
        defer { r.scopes.removeLast() }
        return try body()
    }

    @inline(__always)
    static func note(_ op: String, _ inputs: [Tensor], _ output: Tensor, _ attributes: [String: Int] = [:]) {
        guard let r = active else { return }
        r.events.append(OpEvent(op: op, inputs: inputs.map { $0.shape }, output: output.shape, attributes: attributes, scopes: r.scopes))
    }
}
