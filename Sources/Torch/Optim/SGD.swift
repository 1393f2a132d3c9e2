// SGD with PyTorch's single-tensor update (`torch/optim/sgd.py`, `_single_tensor_sgd`): L2 weight decay added
// to the gradient, momentum with dampening (the buffer starts as a copy of the first gradient), Nesterov.

import Foundation

public final class SGD: Optimizer {
    public var groups: [ParamGroup]
    /// Defaults for groups without their own `options` (PyTorch's: 0, 0, false).
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool

    /// Momentum buffers, keyed by parameter identity; absent until a parameter's first update.
    var momentumBuffers: [ObjectIdentifier: Tensor] = [:]

    public init(groups: [ParamGroup], momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening")
        ParamGroup.checkDistinct(groups, "SGD")
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }

    public convenience init(_ params: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false) {
        self.init(groups: [ParamGroup(params: params, lr: lr, weightDecay: weightDecay)],
                  momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    /// Groups a model's parameters by mmengine-style `rules` (lr_mult / decay_mult per matched key).
    public convenience init(model: Module, lr: Double, weightDecay: Double = 0, rules: ParamGroupRules = ParamGroupRules(customKeys: [:]),
                            momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false) {
        self.init(groups: ParamGroup.groups(from: model.namedParameters(), lr: lr, weightDecay: weightDecay, rules: rules),
                  momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    func hyper(_ g: Int) -> (momentum: Double, dampening: Double, nesterov: Bool) {
        let o = groups[g].options
        return (o.momentum ?? momentum, o.dampening ?? dampening, o.nesterov ?? nesterov)
    }

    public func step() {
        forEachGradient { g, p, grad in
            let h = hyper(g)
            update(p, grad, lr: groups[g].lr, weightDecay: groups[g].weightDecay, h.momentum, h.dampening, h.nesterov)
        }
    }

    /// `a.add(b, alpha=alpha)` out of place (libtorch's fused `a + alpha * b`, as PyTorch computes it).
    private static func added(_ a: Tensor, _ b: Tensor, alpha: Double) -> Tensor {
        let r = a.clone()
        r.add_(b, alpha: alpha)
        return r
    }

    private func update(_ p: Tensor, _ grad: Tensor, lr: Double, weightDecay: Double, _ momentum: Double, _ dampening: Double,
                        _ nesterov: Bool) {
        var d = grad
        if weightDecay != 0 { d = Self.added(grad, p, alpha: weightDecay) }
        if momentum != 0 {
            let key = ObjectIdentifier(p)
            let buf: Tensor
            if let b = momentumBuffers[key] {
                b.mul_(momentum)
                b.add_(d, alpha: 1 - dampening)
                buf = b
            } else {
                buf = d.detach().clone()
                momentumBuffers[key] = buf
            }
            d = nesterov ? Self.added(d, buf, alpha: momentum) : buf
        }
        p.add_(d, alpha: -lr)
    }

    // MARK: state

    static let codec = OptimizerStateCodec(type: "SGD", buffers: ["momentum_buffer"], scalarBuffers: [],
                                           hyperNames: ["momentum", "dampening", "nesterov"])

    public func stateDict() -> (tensors: [String: Tensor], meta: [String: Double]) {
        var tensors: [String: Tensor] = [:]
        for (i, p) in parameters.enumerated() {
            if let b = momentumBuffers[ObjectIdentifier(p)] { tensors[OptimizerStateCodec.key(i, "momentum_buffer")] = b.detach().clone() }
        }
        let meta = Self.codec.meta(groups) { g in
            let h = hyper(g)
            return ["momentum": h.momentum, "dampening": h.dampening, "nesterov": h.nesterov ? 1 : 0]
        }
        return (tensors, meta)
    }

    public func load(tensors: [String: Tensor], meta: [String: Double]) throws {
        let decoded = try Self.codec.decode(tensors: tensors, meta: meta, groups: groups)
        var buffers: [ObjectIdentifier: Tensor] = [:]
        for (i, p) in parameters.enumerated() {
            if let b = decoded[i]?["momentum_buffer"] { buffers[ObjectIdentifier(p)] = b }
        }
        momentumBuffers = buffers
        Self.codec.restoreGroups(&groups, from: meta) { options, name, value in
            switch name {
            case "momentum": options.momentum = value
            case "dampening": options.dampening = value
            default: options.nesterov = value != 0
            }
        }
    }
}
