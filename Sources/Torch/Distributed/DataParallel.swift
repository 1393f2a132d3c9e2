import CTorch
import Foundation

/// Data-parallel training over a process group, as `torch.nn.parallel.DistributedDataParallel` on
/// c10d's own Reducer: at construction every rank checks that it holds the same parameter shapes and
/// takes rank 0's parameters and buffers; during backward the gradients are averaged across ranks
/// in buckets, each all-reduced as soon as its last gradient is ready, overlapping communication with
/// the rest of backward.
///
///     let ddp = try DataParallel(model, group: group)   // after moving the model to its device
///     for batch in batches {
///         try ddp.beginStep()                             // optional, before the forward pass
///         let loss = criterion(model(batch.images), batch.labels)
///         try ddp.prepareBackward(loss)                   // arms the reduction for this backward
///         try loss.checked.backward()                     // gradients arrive averaged over ranks
///         optimizer.step()
///     }
///
/// A backward without `prepareBackward` first keeps its gradients local (gradient accumulation, DDP's
/// `no_sync`).
public final class DataParallel {
    public let module: Module
    public let group: ProcessGroup
    public let findUnusedParameters: Bool
    private let reducer: ts_reducer
    /// The hooked parameters, kept alive as long as the Reducer refers to them.
    private let parameters: [Tensor]

    /// - Parameters:
    ///   - bucketCapMB: gradient bucket size (DDP's `bucket_cap_mb`: 25, with a first bucket of 1 MB
    ///     when not given).
    ///   - findUnusedParameters: some parameters may get no gradient in an iteration (e.g. an unused
    ///     auxiliary head); costs a graph traversal per step. Pass the loss to `prepareBackward`.
    public init(_ module: Module, group: ProcessGroup, bucketCapMB: Double? = nil, findUnusedParameters: Bool = false) throws {
        let named = module.namedParameters().filter { $0.1.requiresGrad }
        guard !named.isEmpty else { throw TorchError("DataParallel", "the module has no trainable parameters") }
        if let bucketCapMB, !(bucketCapMB > 0) {
            throw TorchError("DataParallel", "bucket size must be positive, got \(bucketCapMB) MB")
        }
        self.module = module
        self.group = group
        self.findUnusedParameters = findUnusedParameters
        self.parameters = named.map(\.1)
        let params = parameters

        try withHandles(params) { p, n in
            try Tensor.check("DataParallel", prefixing: "rank \(group.rank) of \(group.size): models differ across ranks") {
                ts_verify_params_across_processes(group.handle, p, n)
            }
        }
        try group.broadcastCoalesced(module.stateDict().map(\.1), from: 0)

        let bucketBytes = Int64((bucketCapMB ?? 25) * 1024 * 1024)
        let firstBucketBytes = bucketCapMB == nil ? 1 << 20 : bucketBytes  // DDP's _DEFAULT_FIRST_BUCKET_BYTES
        let names = named.map { strdup($0.0) }
        defer { names.forEach { free($0) } }
        let namePointers = names.map { UnsafePointer<CChar>($0) }
        var out: ts_reducer? = nil
        try withHandles(params) { p, n in
            try Tensor.check("DataParallel", prefixing: "rank \(group.rank) of \(group.size)") {
                ts_reducer_create(group.handle, p, n, namePointers, bucketBytes, firstBucketBytes, findUnusedParameters ? 1 : 0, &out)
            }
        }
        reducer = out!
    }

    deinit { ts_reducer_free(reducer) }

    /// Before the forward pass (optional): once, after the first iteration, rebuilds the buckets in the
    /// order gradients became ready, before activations take memory, as DDP's forward does.
    public func beginStep() throws {
        try group.throwDeferredError()
        try Tensor.check("DataParallel", prefixing: "rank \(group.rank) of \(group.size)") { ts_reducer_prepare_forward(reducer) }
    }

    /// After the forward pass, before backward: the next backward averages gradients across ranks.
    /// `outputs` (the loss) matter only with `findUnusedParameters`. Also reports a collective that
    /// failed inside the forward pass (SyncBatchNorm).
    public func prepareBackward(_ outputs: Tensor...) throws {
        try group.throwDeferredError()
        try withHandles(outputs) { p, n in
            try Tensor.check("DataParallel", prefixing: "rank \(group.rank) of \(group.size)") {
                ts_reducer_prepare_backward(reducer, p, n)
            }
        }
    }

    /// Overwrites every buffer (BatchNorm running statistics) with rank 0's: DDP's
    /// `broadcast_buffers=True`, done before each forward there. mmengine turns it off; SyncBatchNorm
    /// keeps the statistics equal anyway.
    public func broadcastBuffers() throws {
        try group.broadcastCoalesced(module.namedBuffers().map(\.1), from: 0)
    }

    /// The current number of gradient buckets (one before the first rebuild).
    public var bucketCount: Int { Int(ts_reducer_bucket_count(reducer)) }
}
