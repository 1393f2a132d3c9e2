import CTorch
import Foundation

/// The key-value store through which ranks find each other (`torch.distributed.TCPStore`). One
/// process serves it (rank 0, or the launcher); every rank connects as a client. Every call is
/// bounded by the store's timeout or the one given.
public final class Store: @unchecked Sendable {
    let handle: ts_store
    /// Where clients connect.
    public let host: String
    /// The port the server listens on (the one it picked when created with port 0).
    public let port: Int

    private init(handle: ts_store, host: String) {
        self.handle = handle
        self.host = host
        self.port = Int(ts_store_port(handle))
    }

    deinit { ts_store_free(handle) }

    /// Serves or joins the store at `host:port`. A server on port 0 picks a free port (read `port`).
    /// With `worldSize` and `waitForWorkers`, each process (server included) counts itself in and the
    /// server returns once `worldSize` have; clients must pass them too. Clients retry until `timeout`.
    public static func tcp(host: String, port: Int, isServer: Bool, worldSize: Int? = nil, waitForWorkers: Bool = false,
                           timeout: Duration) throws -> Store {
        guard (0...65535).contains(port), isServer || port > 0 else {
            throw TorchError("TCPStore", "port \(port) is not a usable port (1...65535, or 0 for a server)")
        }
        var out: ts_store? = nil
        let role = isServer ? "serve" : "connect to"
        try Tensor.check("TCPStore", prefixing: "cannot \(role) the rendezvous store at \(host):\(port)") {
            ts_tcp_store_create(host, Int32(port), isServer ? 1 : 0, Int32(worldSize ?? 0), waitForWorkers ? 1 : 0,
                                timeout.milliseconds, &out)
        }
        return Store(handle: out!, host: host)
    }

    /// A view that maps key `k` to `prefix/k` (`torch.distributed.PrefixStore`).
    public func prefixed(_ prefix: String) throws -> Store {
        var out: ts_store? = nil
        try Tensor.check("PrefixStore", ts_store_prefixed(handle, prefix, &out))
        return Store(handle: out!, host: host)
    }

    public func set(_ key: String, _ value: String) throws {
        let bytes = Array(value.utf8)
        try Tensor.check("store.set", prefixing: failurePrefix) { ts_store_set(handle, key, bytes, bytes.count) }
    }

    /// Waits (up to the store's timeout) for `key` and returns its value.
    public func get(_ key: String) throws -> String {
        var value: UnsafeMutablePointer<CChar>? = nil
        var count = 0
        try Tensor.check("store.get", prefixing: failurePrefix) { ts_store_get(handle, key, &value, &count) }
        defer { ts_string_free(value) }
        return String(decoding: UnsafeRawBufferPointer(start: value, count: count), as: UTF8.self)
    }

    /// Adds `delta` to the integer at `key` (created as 0) and returns the new value.
    @discardableResult
    public func add(_ key: String, _ delta: Int) throws -> Int {
        var out: Int64 = 0
        try Tensor.check("store.add", prefixing: failurePrefix) { ts_store_add(handle, key, Int64(delta), &out) }
        return Int(out)
    }

    public func contains(_ key: String) throws -> Bool {
        var exists: Int32 = 0
        try Tensor.check("store.check", prefixing: failurePrefix) { ts_store_check(handle, key, &exists) }
        return exists != 0
    }

    /// Returns once every key exists; throws after `timeout`.
    public func wait(_ keys: [String], timeout: Duration) throws {
        let cKeys = keys.map { strdup($0) }
        defer { cKeys.forEach { free($0) } }
        let pointers = cKeys.map { UnsafePointer<CChar>($0) }
        try Tensor.check("store.wait", prefixing: failurePrefix) {
            ts_store_wait(handle, pointers, Int32(pointers.count), timeout.milliseconds)
        }
    }

    private var failurePrefix: String { "rendezvous store \(host):\(port)" }
}

extension Duration {
    /// Whole milliseconds, at least 1 (c10d reads 0 as "no timeout" in places).
    var milliseconds: Int64 {
        let (s, atto) = components
        return max(1, s * 1000 + atto / 1_000_000_000_000_000)
    }
}

extension Tensor {
    /// `check` with context in front of libtorch's message ("rendezvous store h:p: Connection reset").
    static func check(_ op: String, prefixing context: String, _ body: () -> ts_error?) throws {
        if let e = body() {
            let inner = error(op, e)
            throw TorchError(op, "\(context): \(inner.message)", kind: inner.kind)
        }
    }
}
