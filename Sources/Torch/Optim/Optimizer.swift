// Optimizer parameter groups and the protocol the optimizers share (PyTorch's `torch.optim.Optimizer`).

import Foundation

/// Per-group overrides of an optimizer's hyper-parameters; nil keeps the optimizer's own value.
/// Each optimizer reads the fields it knows (AdamW: betas, eps; SGD: momentum, dampening, nesterov).
public struct GroupOptions: Sendable, Equatable {
    public var beta1: Double?
    public var beta2: Double?
    public var eps: Double?
    public var momentum: Double?
    public var dampening: Double?
    public var nesterov: Bool?

    public init(beta1: Double? = nil, beta2: Double? = nil, eps: Double? = nil,
                momentum: Double? = nil, dampening: Double? = nil, nesterov: Bool? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }
}

/// One entry of PyTorch's `optimizer.param_groups`.
public struct ParamGroup {
    public var params: [Tensor]
    /// The parameters' dotted names when the group was built from a model (else empty).
    public var names: [String]
    /// The lr of the next `step()`. A schedule sets it every iteration (`Optimizer.apply(_:iteration:)`).
    public var lr: Double
    public var weightDecay: Double
    /// mmengine's `lr_mult` / `decay_mult`: this group's lr and weight decay relative to the optimizer's base values.
    public var lrMult: Double
    public var decayMult: Double
    public var options: GroupOptions

    public init(params: [Tensor], names: [String] = [], lr: Double, weightDecay: Double = 0,
                lrMult: Double = 1, decayMult: Double = 1, options: GroupOptions = GroupOptions()) {
        self.params = params
        self.names = names
        self.lr = lr
        self.weightDecay = weightDecay
        self.lrMult = lrMult
        self.decayMult = decayMult
        self.options = options
    }

    /// A model's parameters grouped by mmengine's `paramwise_cfg.custom_keys` rules: parameters matching the
    /// same key share a group with `lr = baseLR * lr_mult` and `weightDecay = baseWeightDecay * decay_mult`.
    /// Groups come in order of first appearance, parameters in model (state_dict) order. Frozen parameters
    /// stay in their group, as mmengine keeps them; having no gradient, they are never updated.
    public static func groups(from namedParameters: [(String, Tensor)], lr baseLR: Double, weightDecay baseWeightDecay: Double,
                              rules: ParamGroupRules = ParamGroupRules(customKeys: [:]),
                              options: GroupOptions = GroupOptions()) -> [ParamGroup] {
        let byName = Dictionary(namedParameters, uniquingKeysWith: { first, _ in first })
        return rules.groups(for: namedParameters.map { $0.0 }).map { g in
            ParamGroup(params: g.names.map { byName[$0]! }, names: g.names,
                       lr: baseLR * g.rule.lrMult, weightDecay: baseWeightDecay * g.rule.decayMult,
                       lrMult: g.rule.lrMult, decayMult: g.rule.decayMult, options: options)
        }
    }
}

/// What every optimizer offers: groups with settable lr, `step()`, `zeroGrad()`, and state for resuming.
///
/// State is keyed like PyTorch's `optimizer.state_dict()`: parameters are numbered 0, 1, 2, ... across the
/// groups in order, and a parameter's buffers are `state.<i>.<name>` (`exp_avg`, `exp_avg_sq`, `step`,
/// `momentum_buffer`). `meta` holds the group settings (`param_groups.<g>.lr`, ...) and the optimizer type.
public protocol Optimizer: AnyObject {
    var groups: [ParamGroup] { get set }
    /// One update of every parameter that has a gradient (others are skipped), without autograd.
    func step()
    /// A snapshot (copies) of the optimizer state.
    func stateDict() -> (tensors: [String: Tensor], meta: [String: Double])
    /// Restores a snapshot made by `stateDict()` of an optimizer over the same parameters; throws, listing
    /// every problem, when it does not fit, and then changes nothing.
    func load(tensors: [String: Tensor], meta: [String: Double]) throws
}

extension ParamGroup {
    /// Traps when a tensor sits in two groups (PyTorch raises the same error): its state would be ambiguous.
    static func checkDistinct(_ groups: [ParamGroup], _ optimizer: String) {
        var seen = Set<ObjectIdentifier>()
        for p in groups.flatMap(\.params) {
            precondition(seen.insert(ObjectIdentifier(p)).inserted, "\(optimizer): a parameter appears in more than one parameter group")
        }
    }
}

extension Optimizer {
    /// Drops every parameter's gradient (`zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for group in groups { for p in group.params { p.zeroGrad() } }
    }

    /// Every parameter, in state index order.
    public var parameters: [Tensor] { groups.flatMap { $0.params } }

    /// Sets each group's lr for optimizer step `iteration` of `schedule`, scaled by the group's `lrMult`.
    public func apply(_ schedule: LRSchedule, iteration: Int) {
        for g in groups.indices { groups[g].lr = schedule.lr(at: iteration, multiplier: groups[g].lrMult) }
    }
}
