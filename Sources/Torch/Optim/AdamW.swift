// AdamW as PyTorch's `torch/optim/adam.py` with decoupled weight decay, op for op, in its three
// implementations: `_single_tensor_adam`, `_multi_tensor_adam` (foreach) and `_fused_adam` (fused), so that
// trajectories equal PyTorch's in the same mode on the same device.

import CTorch
import Foundation

public final class AdamW: Optimizer, AmpScalingOptimizer {
    public var groups: [ParamGroup]
    /// Defaults for groups without their own `options` (PyTorch's: betas (0.9, 0.999), eps 1e-8).
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    /// How `step()` runs; may change between steps (the state carries over).
    public var implementation: OptimizerImplementation

    /// Per-parameter state, created at a parameter's first update (keyed by tensor identity, as PyTorch keys by param).
    final class State {
        /// The step count as single-tensor and foreach steps keep it (PyTorch: a CPU float tensor read with `.item()`).
        var step: Double = 0
        /// The fused kernels' step count, a float32 scalar on the parameter's device; when present it is the
        /// current one (a GradScaler may have skipped steps on the device without the host knowing).
        var deviceStep: Tensor?
        let expAvg: Tensor
        let expAvgSq: Tensor
        init(step: Double, expAvg: Tensor, expAvgSq: Tensor) {
            self.step = step
            self.expAvg = expAvg
            self.expAvgSq = expAvgSq
        }

        /// The step count on the host (reads the device count back once, when the fused kernels kept it).
        func hostStep() -> Double {
            if let d = deviceStep {
                step = d.item()
                deviceStep = nil
            }
            return step
        }

        func stepTensor(on device: Device) -> Tensor {
            if let d = deviceStep { return d }
            let d = Tensor.full([], step, dtype: .float32, device: device)
            deviceStep = d
            return d
        }
    }
    var state: [ObjectIdentifier: State] = [:]

    public init(groups: [ParamGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                implementation: OptimizerImplementation = .singleTensor) {
        ParamGroup.checkDistinct(groups, "AdamW")
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.implementation = implementation
    }

    /// One group holding `params` (PyTorch's default weight decay 1e-2).
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, weightDecay: Double = 1e-2,
                            beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                            implementation: OptimizerImplementation = .singleTensor) {
        self.init(groups: [ParamGroup(params: params, lr: lr, weightDecay: weightDecay)], beta1: beta1, beta2: beta2, eps: eps,
                  implementation: implementation)
    }

    /// Groups a model's parameters by mmengine-style `rules` (lr_mult / decay_mult per matched key).
    public convenience init(model: Module, lr: Double, weightDecay: Double, rules: ParamGroupRules = ParamGroupRules(customKeys: [:]),
                            beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                            implementation: OptimizerImplementation = .singleTensor) {
        self.init(groups: ParamGroup.groups(from: model.namedParameters(), lr: lr, weightDecay: weightDecay, rules: rules),
                  beta1: beta1, beta2: beta2, eps: eps, implementation: implementation)
    }

    func hyper(_ g: Int) -> (beta1: Double, beta2: Double, eps: Double) {
        let o = groups[g].options
        return (o.beta1 ?? beta1, o.beta2 ?? beta2, o.eps ?? eps)
    }

    public func step() { step(gradScale: nil, foundInf: nil) }

    var supportsAmpScaling: Bool { implementation == .fused }

    func step(gradScale: Tensor?, foundInf: Tensor?) {
        Torch.noGrad {
            for (g, items) in gradientsByGroup().enumerated() where !items.isEmpty {
                let h = Hyper(lr: groups[g].lr, weightDecay: groups[g].weightDecay, beta1: hyper(g).beta1, beta2: hyper(g).beta2,
                              eps: hyper(g).eps)
                switch implementation {
                case .singleTensor:
                    for item in items { update(item.param, item.grad, h) }
                case .foreach:
                    for batch in splitByDeviceAndDType(items, \.param) { foreachUpdate(batch, h) }
                case .fused:
                    for batch in splitByDeviceAndDType(items, \.param) { fusedUpdate(batch, h, gradScale: gradScale, foundInf: foundInf) }
                }
            }
        }
    }

    struct Hyper {
        let lr, weightDecay, beta1, beta2, eps: Double
    }

    private func state(for p: Tensor) -> State {
        if let s = state[ObjectIdentifier(p)] { return s }
        let new = State(step: 0, expAvg: zerosLike(p), expAvgSq: zerosLike(p))
        state[ObjectIdentifier(p)] = new
        return new
    }

    /// `_single_tensor_adam`.
    private func update(_ p: Tensor, _ grad: Tensor, _ h: Hyper) {
        let (lr, weightDecay, b1, b2, eps) = (h.lr, h.weightDecay, h.beta1, h.beta2, h.eps)
        let s = state(for: p)
        s.step = s.hostStep() + 1
        if weightDecay != 0 { p.mul_(1 - lr * weightDecay) }  // decoupled decay, before the moments
        s.expAvg.lerp_(grad, weight: 1 - b1)
        s.expAvgSq.mul_(b2)
        s.expAvgSq.addcmul_(grad, grad, value: 1 - b2)
        // Python floats, as PyTorch computes them: `beta ** step` and `bias_correction2 ** 0.5`.
        let biasCorrection1 = 1 - Foundation.pow(b1, s.step)
        let biasCorrection2 = 1 - Foundation.pow(b2, s.step)
        let stepSize = lr / biasCorrection1
        let denom = s.expAvgSq.sqrt() / Foundation.pow(biasCorrection2, 0.5) + eps
        p.addcdiv_(s.expAvg, denom, value: -stepSize)
    }

    /// `_multi_tensor_adam` for one device and dtype (decoupled weight decay, no amsgrad, not capturable).
    private func foreachUpdate(_ batch: [GradientItem], _ h: Hyper) {
        let states = batch.map { state(for: $0.param) }
        let params = batch.map(\.param), grads = batch.map(\.grad)
        let expAvgs = states.map(\.expAvg), expAvgSqs = states.map(\.expAvgSq)
        for s in states { s.step = s.hostStep() + 1 }
        Tensor.trap {
            if h.weightDecay != 0 { try Foreach.mul_(params, 1 - h.lr * h.weightDecay) }
            try Foreach.lerp_(expAvgs, grads, weight: 1 - h.beta1)
            try Foreach.mul_(expAvgSqs, h.beta2)
            try Foreach.addcmul_(expAvgSqs, grads, grads, value: 1 - h.beta2)
            // Python floats, as PyTorch computes them per parameter.
            let biasCorrection1 = states.map { 1 - Foundation.pow(h.beta1, $0.step) }
            let biasCorrection2 = states.map { 1 - Foundation.pow(h.beta2, $0.step) }
            let stepSize = biasCorrection1.map { (h.lr / $0) * -1 }
            let biasCorrection2Sqrt = biasCorrection2.map { Foundation.pow($0, 0.5) }
            let denom = try Foreach.sqrt(expAvgSqs)
            try Foreach.div_(denom, biasCorrection2Sqrt)
            try Foreach.add_(denom, h.eps)
            try Foreach.addcdiv_(params, expAvgs, denom, values: stepSize)
        }
    }

    /// `_fused_adam` (AdamW variant) for one device and dtype: steps are device tensors incremented before the
    /// kernel; with a GradScaler the kernel unscales, skips on inf/NaN, and the skipped step is taken back.
    private func fusedUpdate(_ batch: [GradientItem], _ h: Hyper, gradScale: Tensor?, foundInf: Tensor?) {
        let device = batch[0].param.device
        let states = batch.map { state(for: $0.param) }
        let steps = states.map { $0.stepTensor(on: device) }
        let scale = gradScale.map { $0.device == device ? $0 : $0.to(device) }
        let inf = foundInf.map { $0.device == device ? $0 : $0.to(device) }
        Tensor.trap {
            try Foreach.add_(steps, 1)
            try withHandles(batch.map(\.param)) { p, n in
                try withHandles(batch.map(\.grad)) { g, _ in
                    try withHandles(states.map(\.expAvg)) { m, _ in
                        try withHandles(states.map(\.expAvgSq)) { v, _ in
                            try withHandles(steps) { st, _ in
                                try withExtendedLifetime((scale, inf)) {
                                    try Tensor.check("_fused_adamw_", ts_fused_adamw_(p, g, m, v, st, n, h.lr, h.beta1, h.beta2, h.weightDecay,
                                                                                    h.eps, scale?.handle, inf?.handle))
                                }
                            }
                        }
                    }
                }
            }
            if let inf { try Foreach.add_(steps, [Tensor](repeating: inf, count: steps.count), alpha: -1) }
        }
    }

    // MARK: state

    static let codec = OptimizerStateCodec(type: "AdamW", buffers: ["exp_avg", "exp_avg_sq", "step"],
                                           scalarBuffers: ["step"], hyperNames: ["beta1", "beta2", "eps"])

    public func stateDict() -> (tensors: [String: Tensor], meta: [String: Double]) {
        var tensors: [String: Tensor] = [:]
        for (i, p) in parameters.enumerated() {
            guard let s = state[ObjectIdentifier(p)] else { continue }
            tensors[OptimizerStateCodec.key(i, "exp_avg")] = s.expAvg.detach().clone()
            tensors[OptimizerStateCodec.key(i, "exp_avg_sq")] = s.expAvgSq.detach().clone()
            tensors[OptimizerStateCodec.key(i, "step")] = Tensor.scalar(s.hostStep())  // float32, as PyTorch's step tensor
        }
        let meta = Self.codec.meta(groups) { g in
            let h = hyper(g)
            return ["beta1": h.beta1, "beta2": h.beta2, "eps": h.eps]
        }
        return (tensors, meta)
    }

    public func load(tensors: [String: Tensor], meta: [String: Double]) throws {
        let decoded = try Self.codec.decode(tensors: tensors, meta: meta, groups: groups)
        var newState: [ObjectIdentifier: State] = [:]
        for (i, p) in parameters.enumerated() {
            guard let bufs = decoded[i] else { continue }
            // Moments keep the layout (e.g. channels-last) of the parameter, as the fused kernels require.
            let expAvg = zerosLike(p), expAvgSq = zerosLike(p)
            try expAvg.checked.copy_(bufs["exp_avg"]!)
            try expAvgSq.checked.copy_(bufs["exp_avg_sq"]!)
            newState[ObjectIdentifier(p)] = State(step: try bufs["step"]!.checked.item(), expAvg: expAvg, expAvgSq: expAvgSq)
        }
        state = newState
        Self.codec.restoreGroups(&groups, from: meta) { options, name, value in
            switch name {
            case "beta1": options.beta1 = value
            case "beta2": options.beta2 = value
            default: options.eps = value
            }
        }
    }
}
