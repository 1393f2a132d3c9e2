import CTorch

extension Functional.Checked {
    /// Training-mode batch norm with statistics over the global batch of `group`
    /// (`torch.nn.SyncBatchNorm`): each rank's mean, inverse std and count are all-gathered and
    /// combined; backward all-reduces the two per-channel gradient sums. Updates the running
    /// statistics like `batchNorm`. With one process it equals `batchNorm`.
    public static func syncBatchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                     momentum: Double, eps: Double, group: ProcessGroup) throws -> Tensor {
        try group.throwDeferredError()
        let out = try Tensor.check("sync_batch_norm", prefixing: "rank \(group.rank) of \(group.size)") { out in
            ts_sync_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle, momentum, eps,
                               group.handle, out)
        }
        OpRecorder.note("batch_norm", [x], out, ["affine": weight == nil ? 0 : 1])
        return out
    }
}

extension Functional {
    /// The form for model code. A collective failure (a peer died) cannot throw from inside a
    /// forward pass: it is kept in the group and thrown by the next collective or `DataParallel`
    /// call, and this batch is normalised with local statistics meanwhile. Shape errors trap.
    public static func syncBatchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                     momentum: Double = 0.1, eps: Double = 1e-5, group: ProcessGroup) -> Tensor {
        do {
            return try Checked.syncBatchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                             momentum: momentum, eps: eps, group: group)
        } catch let error as TorchError {
            group.recordDeferred(error)
            return batchNorm(x, runningMean: nil, runningVar: nil, weight: weight, bias: bias, training: true,
                             momentum: momentum, eps: eps)
        } catch {
            fatalError("Torch: \(error)")
        }
    }
}

extension Module {
    /// Makes every `BatchNorm2d` below (whose path passes `filter`) normalise over `group`'s global
    /// batch in training, as `nn.SyncBatchNorm.convert_sync_batchnorm`; nil turns it off. Parameter
    /// paths and checkpoints are unchanged. Returns how many layers were set.
    @discardableResult
    public func useSyncBatchNorm(_ group: ProcessGroup?, where filter: (String) -> Bool = { _ in true }) -> Int {
        var count = 0
        for (path, module) in namedModules() {
            guard let norm = module as? BatchNorm2d, filter(path) else { continue }
            norm.processGroup = group
            count += 1
        }
        return count
    }
}

extension Tensor {
    /// `check` for a shim call that produces one tensor, with context in front of libtorch's message.
    static func check(_ op: String, prefixing context: String,
                      _ body: (UnsafeMutablePointer<ts_tensor?>) -> ts_error?) throws -> Tensor {
        var out: ts_tensor? = nil
        try check(op, prefixing: context) { body(&out) }
        guard let h = out else { throw TorchError(op, "no result") }
        return Tensor(owning: h)
    }
}
