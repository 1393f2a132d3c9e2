// Dynamic loss scaling for float16 training, with PyTorch's `torch.amp.GradScaler` semantics
// (torch/amp/grad_scaler.py) and ATen's kernels (`_amp_foreach_non_finite_check_and_unscale_`,
// `_amp_update_scale_`):
// - `scale(loss)` multiplies by the scale (initially 2^16) before backward;
// - `step(optimizer)` unscales the gradients (unless `unscale(_:)` ran), checks them for inf/NaN and skips the
//   update if any is found; fused optimizers get the scale and the flag instead and do both on the device;
// - `update()` halves the scale after a skipped step (`backoffFactor`) and doubles it after `growthInterval`
//   consecutive good steps (`growthFactor`), never growing it to inf.
// bfloat16 has float32's range and needs no scaler.

import CTorch
import Foundation

public final class GradScaler {
    public let device: Device
    public let isEnabled: Bool
    public private(set) var growthFactor: Double
    public private(set) var backoffFactor: Double
    public private(set) var growthInterval: Int

    private var initScale: Double
    private var initGrowthTracker = 0
    /// float32 and int32 scalars on `device`, made at the first `scale(_:)` (PyTorch's lazy init).
    private var scaleTensor: Tensor?
    private var growthTrackerTensor: Tensor?

    private enum Stage { case ready, unscaled, stepped }
    private final class OptimizerState {
        var stage = Stage.ready
        /// One float flag per device the gradients live on, in first-appearance order.
        var foundInfPerDevice: [(device: Device, flag: Tensor)] = []
    }
    private var perOptimizer: [(id: ObjectIdentifier, state: OptimizerState)] = []

    /// PyTorch's defaults: initial scale 2^16, growth factor 2, backoff factor 0.5, growth interval 2000.
    public init(device: Device, initScale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5,
                growthInterval: Int = 2000, enabled: Bool = true) {
        precondition(!enabled || growthFactor > 1, "GradScaler: the growth factor must be > 1.0")
        precondition(!enabled || backoffFactor < 1, "GradScaler: the backoff factor must be < 1.0")
        self.device = device
        self.isEnabled = enabled
        self.initScale = initScale
        self.growthFactor = growthFactor
        self.backoffFactor = backoffFactor
        self.growthInterval = growthInterval
    }

    // MARK: the loop: scale, (unscale), step, update

    /// `loss * scale` (unchanged when disabled).
    public func scale(_ outputs: Tensor) -> Tensor {
        guard isEnabled else { return outputs }
        if scaleTensor == nil { lazyInit(outputs.device) }
        return outputs * scaleTensor!.to(outputs.device, nonBlocking: true)
    }

    /// Divides the optimizer's gradients by the scale in place and records whether any is inf or NaN. Optional:
    /// call it before clipping or inspecting gradients; `step` does it otherwise. Once per optimizer per step.
    public func unscale(_ optimizer: Optimizer) {
        guard isEnabled else { return }
        let (scale, _) = requireScale("unscale_")
        let state = self.state(of: optimizer)
        precondition(state.stage != .unscaled, "unscale_() has already been called on this optimizer since the last update().")
        precondition(state.stage != .stepped, "unscale_() is being called after step().")
        // FP32 division can be imprecise for certain compile options, so PyTorch takes the reciprocal in FP64.
        let invScale = scale.to(.float64).reciprocal().to(.float32)
        let foundInf = Tensor.full([], 0, dtype: .float32, device: scale.device)
        state.foundInfPerDevice = unscaleGrads(optimizer, invScale: invScale, foundInf: foundInf, allowFP16: false)
        state.stage = .unscaled
    }

    /// Unscales (unless done) and runs `optimizer.step()` unless a gradient is inf or NaN. Returns whether the
    /// step ran; nil for fused optimizers, whose kernels decide on the device (no host sync).
    @discardableResult
    public func step(_ optimizer: Optimizer) -> Bool? {
        guard isEnabled else {
            optimizer.step()
            return true
        }
        _ = requireScale("step")
        let state = self.state(of: optimizer)
        precondition(state.stage != .stepped, "step() has already been called since the last update().")

        if let fused = optimizer as? AmpScalingOptimizer, fused.supportsAmpScaling {
            if state.stage == .ready { checkInfPerDevice(optimizer, state) }
            let scale = scaleTensor!
            let flags = state.foundInfPerDevice.map { $0.flag.to(scale.device, nonBlocking: true) }
            let foundInf = flags.dropFirst().reduce(flags[0].clone()) { $0 + $1 }  // Python's sum(...)
            // Gradients already unscaled by the caller: no scale for the kernel.
            fused.step(gradScale: state.stage == .unscaled ? nil : scale, foundInf: foundInf)
            state.stage = .stepped
            return nil
        }

        if state.stage == .ready { unscale(optimizer) }
        precondition(!state.foundInfPerDevice.isEmpty, "No inf checks were recorded for this optimizer.")
        let foundInf = state.foundInfPerDevice.contains { $0.flag.item() != 0 }
        if !foundInf { optimizer.step() }
        state.stage = .stepped
        return !foundInf
    }

    /// Updates the scale from this iteration's inf checks (`_amp_update_scale_`), or sets it to `newScale`.
    /// Call once per iteration, after `step` for every optimizer.
    public func update(newScale: Double? = nil) {
        guard isEnabled else { return }
        let (scale, tracker) = requireScale("update")
        if let newScale {
            scale.fill_(newScale)
        } else {
            let found = perOptimizer.flatMap { $0.state.foundInfPerDevice.map { $0.flag.to(scale.device, nonBlocking: true) } }
            precondition(!found.isEmpty, "No inf checks were recorded prior to update.")
            let combined = found[0]
            for f in found.dropFirst() { combined.add_(f) }
            Tensor.trap {
                try Tensor.check("_amp_update_scale_", ts_amp_update_scale_(scale.handle, tracker.handle, combined.handle, growthFactor,
                                                                            backoffFactor, Int64(growthInterval)))
            }
        }
        perOptimizer = []
    }

    // MARK: state

    /// The current scale (`get_scale()`; a host sync): the initial scale before the first `scale(_:)`, 1 when disabled.
    public var currentScale: Double {
        guard isEnabled else { return 1 }
        return scaleTensor?.item() ?? initScale
    }

    /// Consecutive unskipped steps since the last growth or backoff.
    public var growthTracker: Int {
        guard isEnabled else { return 0 }
        return growthTrackerTensor?.itemInt() ?? initGrowthTracker
    }

    /// `GradScaler.state_dict()`: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker; empty when
    /// disabled. Take it after `update()`.
    public func stateDict() -> [String: Double] {
        guard isEnabled else { return [:] }
        return ["scale": currentScale, "growth_factor": growthFactor, "backoff_factor": backoffFactor,
                "growth_interval": Double(growthInterval), "_growth_tracker": Double(growthTracker)]
    }

    /// `GradScaler.load_state_dict()`. A no-op when disabled; throws for an empty or incomplete state.
    public func load(stateDict: [String: Double]) throws {
        guard isEnabled else { return }
        guard !stateDict.isEmpty else {
            throw TorchError("GradScaler.load", "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler.")
        }
        let keys = ["scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"]
        let missing = keys.filter { stateDict[$0] == nil }
        guard missing.isEmpty else { throw TorchError("GradScaler.load", "missing keys: " + missing.joined(separator: ", ")) }
        initScale = stateDict["scale"]!
        scaleTensor?.fill_(initScale)
        growthFactor = stateDict["growth_factor"]!
        backoffFactor = stateDict["backoff_factor"]!
        growthInterval = Int(stateDict["growth_interval"]!)
        initGrowthTracker = Int(stateDict["_growth_tracker"]!)
        growthTrackerTensor?.fill_(Double(initGrowthTracker))
    }

    // MARK: internals

    private func lazyInit(_ device: Device) {
        scaleTensor = Tensor.full([], initScale, dtype: .float32, device: device)
        growthTrackerTensor = Tensor.full([], Double(initGrowthTracker), dtype: .int32, device: device)
    }

    private func requireScale(_ function: String) -> (Tensor, Tensor) {
        guard let s = scaleTensor, let g = growthTrackerTensor else {
            preconditionFailure("Attempted \(function) but _scale is None. This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration.")
        }
        return (s, g)
    }

    private func state(of optimizer: Optimizer) -> OptimizerState {
        let id = ObjectIdentifier(optimizer)
        if let s = perOptimizer.first(where: { $0.id == id }) { return s.state }
        let s = OptimizerState()
        perOptimizer.append((id, s))
        return s
    }

    /// `_unscale_grads_`: per device and dtype, one `_amp_foreach_non_finite_check_and_unscale_` call with that
    /// device's copies of `invScale` and `foundInf`. Returns the per-device flags.
    private func unscaleGrads(_ optimizer: Optimizer, invScale: Tensor, foundInf: Tensor, allowFP16: Bool) -> [(device: Device, flag: Tensor)] {
        var perDevice: [(device: Device, invScale: Tensor, flag: Tensor)] = []
        func copies(for device: Device) -> (Tensor, Tensor) {
            if let c = perDevice.first(where: { $0.device == device }) { return (c.invScale, c.flag) }
            // _MultiDeviceReplicator: `master.to(device, non_blocking=True, copy=True)`, a copy even on the same device.
            let c = Tensor.trap {
                (try invScale.checked.to(device: device, copy: true, nonBlocking: true),
                 try foundInf.checked.to(device: device, copy: true, nonBlocking: true))
            }
            perDevice.append((device, c.0, c.1))
            return c
        }
        let grads = optimizer.groups.flatMap { $0.params.compactMap { $0.grad } }
        if !allowFP16 {
            precondition(!grads.contains { $0.dtype == .float16 }, "Attempting to unscale FP16 gradients.")
        }
        Torch.noGrad {
            for batch in splitByDeviceAndDType(grads, { $0 }) {
                let (inv, flag) = copies(for: batch[0].device)
                Tensor.trap {
                    try withHandles(batch) { p, n in
                        try Tensor.check("_amp_foreach_non_finite_check_and_unscale_",
                                         ts_amp_foreach_non_finite_check_and_unscale_(p, n, flag.handle, inv.handle))
                    }
                }
            }
        }
        return perDevice.map { ($0.device, $0.flag) }
    }

    /// `_check_inf_per_device`: the inf/NaN check alone (inverse scale 1), for fused optimizers.
    private func checkInfPerDevice(_ optimizer: Optimizer, _ state: OptimizerState) {
        let (scale, _) = requireScale("_check_inf_per_device")
        let dummyInvScale = Tensor.full([], 1, dtype: .float32, device: scale.device)
        let foundInf = Tensor.full([], 0, dtype: .float32, device: scale.device)
        state.foundInfPerDevice = unscaleGrads(optimizer, invScale: dummyInvScale, foundInf: foundInf, allowFP16: true)
    }
}
