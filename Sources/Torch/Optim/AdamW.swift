// AdamW with PyTorch's single-tensor update (`torch/optim/adam.py`, `_single_tensor_adam` with
// decoupled weight decay), op for op, so that trajectories equal PyTorch's on the same device.

import Foundation

public final class AdamW: Optimizer {
    public var groups: [ParamGroup]
    /// Defaults for groups without their own `options` (PyTorch's: betas (0.9, 0.999), eps 1e-8).
    public let beta1: Double
    public let beta2: Double
    public let eps: Double

    /// Per-parameter state, created at a parameter's first update (keyed by tensor identity, as PyTorch keys by param).
    final class State {
        var step: Double = 0
        let expAvg: Tensor
        let expAvgSq: Tensor
        init(step: Double, expAvg: Tensor, expAvgSq: Tensor) {
            self.step = step
            self.expAvg = expAvg
            self.expAvgSq = expAvgSq
        }
    }
    var state: [ObjectIdentifier: State] = [:]

    public init(groups: [ParamGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        ParamGroup.checkDistinct(groups, "AdamW")
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
    }

    /// One group holding `params` (PyTorch's default weight decay 1e-2).
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, weightDecay: Double = 1e-2,
                            beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        self.init(groups: [ParamGroup(params: params, lr: lr, weightDecay: weightDecay)], beta1: beta1, beta2: beta2, eps: eps)
    }

    /// Groups a model's parameters by mmengine-style `rules` (lr_mult / decay_mult per matched key).
    public convenience init(model: Module, lr: Double, weightDecay: Double, rules: ParamGroupRules = ParamGroupRules(customKeys: [:]),
                            beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        self.init(groups: ParamGroup.groups(from: model.namedParameters(), lr: lr, weightDecay: weightDecay, rules: rules),
                  beta1: beta1, beta2: beta2, eps: eps)
    }

    func hyper(_ g: Int) -> (beta1: Double, beta2: Double, eps: Double) {
        let o = groups[g].options
        return (o.beta1 ?? beta1, o.beta2 ?? beta2, o.eps ?? eps)
    }

    public func step() {
        forEachGradient { g, p, grad in
            let (b1, b2, eps) = hyper(g)
            update(p, grad, lr: groups[g].lr, weightDecay: groups[g].weightDecay, b1, b2, eps)
        }
    }

    private func update(_ p: Tensor, _ grad: Tensor, lr: Double, weightDecay: Double, _ b1: Double, _ b2: Double, _ eps: Double) {
        let s = state[ObjectIdentifier(p)] ?? {
            let new = State(step: 0, expAvg: Tensor.zeros(p.shape, dtype: p.dtype, device: p.device),
                            expAvgSq: Tensor.zeros(p.shape, dtype: p.dtype, device: p.device))
            state[ObjectIdentifier(p)] = new
            return new
        }()
        s.step += 1
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

    // MARK: state

    static let codec = OptimizerStateCodec(type: "AdamW", buffers: ["exp_avg", "exp_avg_sq", "step"],
                                           scalarBuffers: ["step"], hyperNames: ["beta1", "beta2", "eps"])

    public func stateDict() -> (tensors: [String: Tensor], meta: [String: Double]) {
        var tensors: [String: Tensor] = [:]
        for (i, p) in parameters.enumerated() {
            guard let s = state[ObjectIdentifier(p)] else { continue }
            tensors[OptimizerStateCodec.key(i, "exp_avg")] = s.expAvg.detach().clone()
            tensors[OptimizerStateCodec.key(i, "exp_avg_sq")] = s.expAvgSq.detach().clone()
            tensors[OptimizerStateCodec.key(i, "step")] = Tensor.scalar(s.step)  // float32, as PyTorch's step tensor
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
            newState[ObjectIdentifier(p)] = State(step: try bufs["step"]!.checked.item(),
                                                  expAvg: bufs["exp_avg"]!, expAvgSq: bufs["exp_avg_sq"]!)
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
