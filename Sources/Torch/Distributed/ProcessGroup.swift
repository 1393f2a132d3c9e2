import CTorch
import Foundation

/// How tensors are combined by `allReduce`. Gloo has no native average: `.average` sums, then divides.
public enum ReduceOp: Sendable {
    case sum, product, min, max, average
}

/// The address Gloo peers use to reach this process.
public enum PeerAddress: Sendable, Equatable {
    /// torch's choice: the interface in `GLOO_SOCKET_IFNAME` when set; loopback when the store is on
    /// this machine's loopback; otherwise this host's resolved name.
    case automatic
    /// A network interface, e.g. "eth0".
    case interface(String)
    /// A host name or address of this machine.
    case hostname(String)
}

/// A set of processes that run collectives together (`torch.distributed.ProcessGroup`): Gloo for CPU
/// tensors, NCCL (plus Gloo for CPU tensors) for CUDA. Every rank must issue the same collectives in
/// the same order, from one thread.
///
/// Every call is bounded: an operation that cannot finish within the group's timeout (or the one
/// given) throws, and a peer that died makes the collectives of the others fail at once (Gloo sees its
/// connections close). `monitoredBarrier` then names the ranks that are gone.
public final class ProcessGroup: @unchecked Sendable {
    public enum Backend: String, Sendable {
        case gloo, nccl
    }

    /// torch's default (`kBackendDefaultTimeout`): 30 minutes.
    public static let defaultTimeout: Duration = .seconds(1800)

    public let rank: Int
    public let size: Int
    public let backend: Backend
    /// Prefixes this group's keys in the store.
    public let name: String
    public let timeout: Duration
    /// The rendezvous store, also usable for small out-of-band messages (e.g. a stop flag).
    public let store: Store
    let handle: ts_process_group
    private var monitoredBarrierCount = 0
    /// A collective that failed where nothing can throw (SyncBatchNorm inside a forward pass), reported
    /// by the next collective or `DataParallel` call.
    private var deferredError: TorchError?

    private init(handle: ts_process_group, backend: Backend, name: String, timeout: Duration, store: Store) {
        self.handle = handle
        self.rank = Int(ts_process_group_rank(handle))
        self.size = Int(ts_process_group_size(handle))
        self.backend = backend
        self.name = name
        self.timeout = timeout
        self.store = store
    }

    deinit { ts_process_group_free(handle) }

    // MARK: creation

    /// Rendezvous from the launcher's environment: rank 0 serves the TCP store at
    /// MASTER_ADDR:MASTER_PORT (unless the launcher does) and every rank waits until all have connected;
    /// then the group for `device` is created: Gloo on the CPU, NCCL on `.cuda(i)`.
    public static func initialize(_ environment: DistributedEnvironment, device: Device, name: String = "default",
                                  timeout: Duration = defaultTimeout) throws -> ProcessGroup {
        let serves = environment.rank == 0 && !environment.storeHostedByLauncher
        // Every rank counts itself in (the server waits for the count), as torch's env:// rendezvous.
        let store = try Store.tcp(host: environment.masterAddress, port: environment.masterPort, isServer: serves,
                                  worldSize: environment.worldSize, waitForWorkers: true, timeout: timeout)
        switch device {
        case .cpu:
            return try gloo(store: store, rank: environment.rank, size: environment.worldSize, name: name, timeout: timeout)
        case .cuda(let index):
            return try nccl(store: store, rank: environment.rank, size: environment.worldSize, device: index, name: name,
                            timeout: timeout)
        }
    }

    /// A Gloo group over `store`. Groups sharing a store need distinct names.
    public static func gloo(store: Store, rank: Int, size: Int, name: String = "default", timeout: Duration = defaultTimeout,
                            address: PeerAddress = .automatic) throws -> ProcessGroup {
        try validate(rank: rank, size: size)
        let (interface, hostname) = resolve(address, store: store)
        var out: ts_process_group? = nil
        try Tensor.check("ProcessGroupGloo", prefixing: "rank \(rank) of \(size)") {
            ts_process_group_gloo(store.handle, name, Int32(rank), Int32(size), timeout.milliseconds, interface, hostname, &out)
        }
        return ProcessGroup(handle: out!, backend: .gloo, name: name, timeout: timeout, store: store)
    }

    /// An NCCL group for tensors on `cuda:device` (plus Gloo for CPU tensors). Throws when CUDA is
    /// unavailable: NCCL lives in libtorch_cuda, loaded at run time.
    public static func nccl(store: Store, rank: Int, size: Int, device: Int, name: String = "default",
                            timeout: Duration = defaultTimeout, address: PeerAddress = .automatic) throws -> ProcessGroup {
        try validate(rank: rank, size: size)
        guard Torch.cuda.isAvailable else {
            throw TorchError("ProcessGroupNCCL", "NCCL needs CUDA, which is unavailable: \(Torch.cuda.reason ?? "no CUDA device")")
        }
        let (interface, hostname) = resolve(address, store: store)
        var out: ts_process_group? = nil
        try Tensor.check("ProcessGroupNCCL", prefixing: "rank \(rank) of \(size)") {
            ts_process_group_nccl(store.handle, name, Int32(rank), Int32(size), Int32(device), timeout.milliseconds,
                                  interface, hostname, &out)
        }
        return ProcessGroup(handle: out!, backend: .nccl, name: name, timeout: timeout, store: store)
    }

    private static func validate(rank: Int, size: Int) throws {
        guard size >= 1, (0..<size).contains(rank) else {
            throw TorchError("ProcessGroup", "rank \(rank) is not in a group of \(size)")
        }
    }

    private static func resolve(_ address: PeerAddress, store: Store) -> (interface: String?, hostname: String?) {
        switch address {
        case .interface(let name): return (name, nil)
        case .hostname(let name): return (nil, name)
        case .automatic:
            if let names = ProcessInfo.processInfo.environment["GLOO_SOCKET_IFNAME"], !names.isEmpty {
                return (names.split(separator: ",").first.map(String.init), nil)
            }
            let loopback = ["127.0.0.1", "localhost", "::1"].contains(store.host.lowercased())
            return (nil, loopback ? "127.0.0.1" : nil)
        }
    }

    // MARK: collectives

    /// Reduces each tensor across ranks in place (every rank ends with the result). Float and integer
    /// tensors (e.g. int64 confusion matrices); `.average` only for floating point.
    public func allReduce(_ tensors: [Tensor], op: ReduceOp = .sum, timeout: Duration? = nil) throws {
        guard !tensors.isEmpty else { return }
        let code: Int32
        switch op {
        case .sum, .average: code = 0
        case .product: code = 1
        case .min: code = 2
        case .max: code = 3
        }
        if op == .average, let t = tensors.first(where: { !$0.dtype.isFloatingPoint }) {
            throw TorchError("all_reduce", "cannot average a \(t.dtype) tensor in place; use .sum")
        }
        try collective("all_reduce") {
            withHandles(tensors) { p, n in ts_all_reduce(handle, p, n, code, milliseconds(timeout)) }
        }
        if op == .average {
            for t in tensors { try t.checked.mul_(1.0 / Double(size)) }
        }
    }

    public func allReduce(_ tensor: Tensor, op: ReduceOp = .sum, timeout: Duration? = nil) throws {
        try allReduce([tensor], op: op, timeout: timeout)
    }

    /// Overwrites the tensors on every rank with `root`'s.
    public func broadcast(_ tensors: [Tensor], from root: Int = 0, timeout: Duration? = nil) throws {
        guard !tensors.isEmpty else { return }
        try collective("broadcast") {
            withHandles(tensors) { p, n in ts_broadcast(handle, p, n, Int32(root), milliseconds(timeout)) }
        }
    }

    /// `broadcast` for many tensors at once (parameters, buffers): flattened into buffers of at most
    /// `bufferBytes`, as DDP's initial `_sync_module_states` (250 MB).
    public func broadcastCoalesced(_ tensors: [Tensor], from root: Int = 0, bufferBytes: Int = 250 << 20) throws {
        guard !tensors.isEmpty else { return }
        try collective("broadcast_coalesced") {
            withHandles(tensors) { p, n in ts_broadcast_coalesced(handle, p, n, Int32(root), Int64(bufferBytes)) }
        }
    }

    /// Every rank's `tensor`, indexed by rank (same shape and dtype on every rank).
    public func allGather(_ tensor: Tensor, timeout: Duration? = nil) throws -> [Tensor] {
        var outs = [ts_tensor?](repeating: nil, count: size)
        try collective("all_gather") { ts_all_gather(handle, tensor.handle, milliseconds(timeout), &outs) }
        return outs.map { Tensor(owning: $0!) }
    }

    /// Returns once every rank has called it.
    public func barrier(timeout: Duration? = nil) throws {
        try collective("barrier") { ts_barrier(handle, milliseconds(timeout)) }
    }

    /// A barrier that names the ranks that do not arrive within `timeout` (exited or stuck), on every
    /// rank that is still alive. It goes through the store, not the backend, so it works after a
    /// collective failed because a peer died. Rank 0 collects the arrivals and publishes the verdict.
    public func monitoredBarrier(timeout: Duration) throws {
        monitoredBarrierCount += 1
        let base = "\(name)/monitored_barrier/\(monitoredBarrierCount)/"
        let verdictKey = base + "verdict"
        do {
            try store.set(base + "arrived/\(rank)", "1")
            if rank == 0 {
                let others = Array(1..<size)
                try? store.wait(others.map { base + "arrived/\($0)" }, timeout: timeout)
                let missing = try others.filter { !(try store.contains(base + "arrived/\($0)")) }
                let verdict = missing.isEmpty ? "ok" : Self.describe(missing: missing, timeout: timeout)
                try store.set(verdictKey, verdict)
                if !missing.isEmpty { throw TorchError("monitored_barrier", verdict) }
            } else {
                let start = ContinuousClock.now
                do {
                    try store.wait([verdictKey], timeout: timeout + .seconds(5))
                } catch let error as TorchError where ContinuousClock.now - start < timeout {
                    throw TorchError("monitored_barrier", "rank \(rank) of \(size) cannot reach the store: \(error.message); "
                                     + "rank 0 (or the launcher), which serves it, has probably exited")
                } catch {
                    throw TorchError("monitored_barrier", "rank 0 did not complete the barrier within \(timeout): it has exited or is stuck")
                }
                let verdict = try store.get(verdictKey)
                if verdict != "ok" { throw TorchError("monitored_barrier", verdict) }
            }
        } catch let error as TorchError where error.operation != "monitored_barrier" {
            // The store itself is unreachable: whoever served it (rank 0 or the launcher) is gone.
            throw TorchError("monitored_barrier", "rank \(rank) of \(size): \(error.message) (the store's server, rank 0 or the launcher, has probably exited)")
        }
    }

    static func describe(missing: [Int], timeout: Duration) -> String {
        let who = missing.count == 1 ? "rank \(missing[0])" : "ranks " + missing.map(String.init).joined(separator: ", ")
        return "\(who) did not reach the barrier within \(timeout): exited or stuck"
    }

    // MARK: lifetime

    /// Waits for pending work and releases the connections; later collectives fail. Call it on every
    /// rank at the end of a run.
    public func shutdown() throws {
        try Tensor.check("shutdown", prefixing: "rank \(rank) of \(size)") { ts_process_group_shutdown(handle) }
    }

    /// Drops pending work without waiting (after a peer failed).
    public func abort() throws {
        try Tensor.check("abort", prefixing: "rank \(rank) of \(size)") { ts_process_group_abort(handle) }
    }

    // MARK: plumbing

    /// Keeps the first failure of a collective run inside non-throwing model code.
    func recordDeferred(_ error: TorchError) {
        if deferredError == nil { deferredError = error }
    }

    /// Throws the failure kept by `recordDeferred`, if any.
    public func throwDeferredError() throws {
        if let deferredError { throw deferredError }
    }

    private func milliseconds(_ timeout: Duration?) -> Int64 { (timeout ?? self.timeout).milliseconds }

    /// Runs a collective; a failure names the operation and this rank.
    private func collective(_ op: String, _ body: () -> ts_error?) throws {
        try throwDeferredError()
        try Tensor.check(op, prefixing: "rank \(rank) of \(size) (\(backend.rawValue))", body)
    }
}
