// SGD as PyTorch's `torch/optim/sgd.py` in its three implementations (`_single_tensor_sgd`, `_multi_tensor_sgd`,
// `_fused_sgd`): L2 weight decay added to the gradient, momentum with dampening (the buffer starts as a copy of
// the first gradient), Nesterov.

import CTorch
import Foundation

public final class SGD: Optimizer, AmpScalingOptimizer {
    public var groups: [ParamGroup]
    /// Defaults for groups without their own `options` (PyTorch's: 0, 0, false).
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool
    /// How `step()` runs; may change between steps (the state carries over).
    public var implementation: OptimizerImplementation

    /// Momentum buffers, keyed by parameter identity; absent until a parameter's first update.
    var momentumBuffers: [ObjectIdentifier: Tensor] = [:]

    public init(groups: [ParamGroup], momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                implementation: OptimizerImplementation = .singleTensor) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening")
        ParamGroup.checkDistinct(groups, "SGD")
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.implementation = implementation
    }

    public convenience init(_ params: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false, implementation: OptimizerImplementation = .singleTensor) {
        self.init(groups: [ParamGroup(params: params, lr: lr, weightDecay: weightDecay)],
                  momentum: momentum, dampening: dampening, nesterov: nesterov, implementation: implementation)
    }

    /// Groups a model's parameters by mmengine-style `rules` (lr_mult / decay_mult per matched key).
    public convenience init(model: Module, lr: Double, weightDecay: Double = 0, rules: ParamGroupRules = ParamGroupRules(customKeys: [:]),
                            momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                            implementation: OptimizerImplementation = .singleTensor) {
        self.init(groups: ParamGroup.groups(from: model.namedParameters(), lr: lr, weightDecay: weightDecay, rules: rules),
                  momentum: momentum, dampening: dampening, nesterov: nesterov, implementation: implementation)
    }

    func hyper(_ g: Int) -> (momentum: Double, dampening: Double, nesterov: Bool) {
        let o = groups[g].options
        return (o.momentum ?? momentum, o.dampening ?? dampening, o.nesterov ?? nesterov)
    }

    public func step() { step(gradScale: nil, foundInf: nil) }

    var supportsAmpScaling: Bool { implementation == .fused }

    func step(gradScale: Tensor?, foundInf: Tensor?) {
        Torch.noGrad {
            for (g, items) in gradientsByGroup().enumerated() where !items.isEmpty {
                let (m, d, n) = hyper(g)
                let (lr, wd) = (groups[g].lr, groups[g].weightDecay)
                switch implementation {
                case .singleTensor:
                    for item in items { update(item.param, item.grad, lr: lr, weightDecay: wd, m, d, n) }
                case .foreach:
                    for batch in splitByDeviceAndDType(items, \.param) {
                        foreachUpdate(batch, lr: lr, weightDecay: wd, momentum: m, dampening: d, nesterov: n)
                    }
                case .fused:
                    fusedUpdate(items, lr: lr, weightDecay: wd, momentum: m, dampening: d, nesterov: n, gradScale: gradScale, foundInf: foundInf)
                }
            }
        }
    }

    /// `_multi_tensor_sgd` for one device and dtype. As PyTorch, Nesterov adds the buffers to the gradient list in
    /// place: without weight decay those are the parameters' `.grad` tensors.
    private func foreachUpdate(_ batch: [GradientItem], lr: Double, weightDecay: Double, momentum: Double, dampening: Double,
                               nesterov: Bool) {
        let params = batch.map(\.param)
        Tensor.trap {
            var grads = batch.map(\.grad)
            if weightDecay != 0 { grads = try Foreach.add(grads, params, alpha: weightDecay) }
            if momentum != 0 {
                let existing = params.map { momentumBuffers[ObjectIdentifier($0)] }
                var bufs: [Tensor]
                if existing.allSatisfy({ $0 != nil }) {
                    bufs = existing.map { $0! }
                    try Foreach.mul_(bufs, momentum)
                    try Foreach.add_(bufs, grads, alpha: 1 - dampening)
                } else {
                    bufs = []
                    for (i, p) in params.enumerated() {
                        if let buf = existing[i] {
                            try buf.checked.mul_(momentum)
                            try buf.checked.add_(grads[i], alpha: 1 - dampening)
                            bufs.append(buf)
                        } else {
                            let buf = try grads[i].checked.detach().checked.clone()
                            momentumBuffers[ObjectIdentifier(p)] = buf
                            bufs.append(buf)
                        }
                    }
                }
                if nesterov { try Foreach.add_(grads, bufs, alpha: momentum) } else { grads = bufs }
            }
            try Foreach.add_(params, grads, alpha: -lr)
        }
    }

    /// `_fused_sgd`: one kernel per device and dtype. The kernel's `is_first_step` (buffers start as the
    /// gradient) holds for a whole call, so parameters without a buffer yet get their own call.
    private func fusedUpdate(_ items: [GradientItem], lr: Double, weightDecay: Double, momentum: Double, dampening: Double,
                             nesterov: Bool, gradScale: Tensor?, foundInf: Tensor?) {
        let noBuffer = momentum == 0
        let fresh = items.filter { !noBuffer && momentumBuffers[ObjectIdentifier($0.param)] == nil }
        let continuing = items.filter { noBuffer || momentumBuffers[ObjectIdentifier($0.param)] != nil }
        for p in fresh.map(\.param) { momentumBuffers[ObjectIdentifier(p)] = zerosLike(p) }
        for (subset, isFirst) in [(continuing, false), (fresh, true)] where !subset.isEmpty {
            for batch in splitByDeviceAndDType(subset, \.param) {
                let device = batch[0].param.device
                let scale = gradScale.map { $0.device == device ? $0 : $0.to(device) }
                let inf = foundInf.map { $0.device == device ? $0 : $0.to(device) }
                let bufs = noBuffer ? [] : batch.map { momentumBuffers[ObjectIdentifier($0.param)]! }
                Tensor.trap {
                    try withHandles(batch.map(\.param)) { p, n in
                        try withHandles(batch.map(\.grad)) { g, _ in
                            try withHandles(bufs) { b, nb in
                                try withExtendedLifetime((scale, inf)) {
                                    try Tensor.check("_fused_sgd_", ts_fused_sgd_(p, g, b, nb, n, weightDecay, momentum, lr, dampening,
                                                                                nesterov ? 1 : 0, isFirst ? 1 : 0, scale?.handle, inf?.handle))
                                }
                            }
                        }
                    }
                }
            }
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
            guard let b = decoded[i]?["momentum_buffer"] else { continue }
            let buf = zerosLike(p)  // the parameter's layout, as the fused kernel requires
            try buf.checked.copy_(b)
            buffers[ObjectIdentifier(p)] = buf
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
