import Foundation
import TorchIO

/// The base of every layer and model. Children, parameters and buffers are registered under the
/// names PyTorch uses, in PyTorch's order, so `stateDict()` keys equal the official state_dict keys.
///
/// Subclasses create their members, call `super.init()`, then register them in declaration order:
///
///     init(dim: Int) {
///         q = Linear(dim, dim); proj = Linear(dim, dim)
///         super.init()
///         register(modules: ("q", q), ("proj", proj))
///     }
open class Module {
    public private(set) var isTraining = true
    private(set) var parameterSlots: [(name: String, tensor: Tensor)] = []
    private(set) var bufferSlots: [(name: String, tensor: Tensor)] = []
    private(set) var childSlots: [(name: String, module: Module)] = []

    public init() {}

    // MARK: registration

    /// Registers trainable tensors (nil entries, e.g. an absent bias, are skipped) and marks them requiring grad.
    public func register(parameters: (String, Tensor?)...) {
        for (name, t) in parameters {
            guard let t else { continue }
            t.requiresGrad = true
            parameterSlots.append((name, t))
        }
    }

    /// Registers state that is saved but not trained (BatchNorm running statistics).
    public func register(buffers: (String, Tensor?)...) {
        for (name, t) in buffers {
            guard let t else { continue }
            bufferSlots.append((name, t))
        }
    }

    /// Registers child modules (nil entries are skipped).
    public func register(modules: (String, Module?)...) {
        for (name, m) in modules {
            guard let m else { continue }
            childSlots.append((name, m))
        }
    }

    // MARK: inference preparation

    /// Sets up this layer's fast CPU inference form (folded BatchNorm, prepacked weights, fused activations and
    /// additions). `optimizeForInference()` calls it on every module, parents before children, so a parent can
    /// configure a child (fold a BatchNorm into the convolution before it) and the child keeps that. The plain
    /// parameters are never changed.
    open func prepareForInference() {}

    /// Drops what `prepareForInference()` set up: the plain forward runs again.
    open func discardInferencePreparation() {}

    // MARK: forward

    /// The single-input forward of layers that have one. Layers with other signatures define their own.
    open func callAsFunction(_ x: Tensor) -> Tensor {
        fatalError("\(type(of: self)) has no single-input forward")
    }

    // MARK: traversal

    public var children: [(name: String, module: Module)] { childSlots }

    /// Every module below and including this one, with its dotted path ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, child) in childSlots {
            out.append(contentsOf: child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)"))
        }
        return out
    }

    /// Each parameter once, under the first name it is reached by (PyTorch's `named_parameters`): a module
    /// registered under several parents (a shared layer) contributes its tensors once, so optimisers update
    /// them once and `parameterCount` counts them once.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        unique(collect(prefix: prefix, parameters: true, buffers: false))
    }

    /// Each buffer once, under its first name (PyTorch's `named_buffers`).
    public func namedBuffers(prefix: String = "") -> [(String, Tensor)] {
        unique(collect(prefix: prefix, parameters: false, buffers: true))
    }

    public var parameters: [Tensor] { namedParameters().map { $0.1 } }

    /// Number of trainable elements (BatchNorm statistics excluded, shared tensors once, as PyTorch counts).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Parameters and buffers in PyTorch's `state_dict()` order: each module's own parameters, then
    /// its own buffers, then its children depth-first. A shared tensor appears under every key it is
    /// reachable by, as in PyTorch (see `sharedKeyGroups`).
    public func stateDict(prefix: String = "") -> [(String, Tensor)] {
        collect(prefix: prefix, parameters: true, buffers: true)
    }

    /// The state_dict keys that name one tensor, for every tensor reachable by more than one key, in
    /// state_dict order (e.g. a position encoding shared by all blocks of an encoder).
    public func sharedKeyGroups() -> [[String]] {
        var groups: [ObjectIdentifier: [String]] = [:]
        var order: [ObjectIdentifier] = []
        for (key, t) in stateDict() {
            let id = ObjectIdentifier(t)
            if groups[id] == nil { order.append(id) }
            groups[id, default: []].append(key)
        }
        return order.compactMap { groups[$0]!.count > 1 ? groups[$0] : nil }
    }

    private func unique(_ entries: [(String, Tensor)]) -> [(String, Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return entries.filter { seen.insert(ObjectIdentifier($0.1)).inserted }
    }

    private func collect(prefix: String, parameters: Bool, buffers: Bool) -> [(String, Tensor)] {
        func key(_ n: String) -> String { prefix.isEmpty ? n : "\(prefix).\(n)" }
        var out: [(String, Tensor)] = []
        if parameters { out += parameterSlots.map { (key($0.name), $0.tensor) } }
        if buffers { out += bufferSlots.map { (key($0.name), $0.tensor) } }
        for (name, child) in childSlots {
            out += child.collect(prefix: key(name), parameters: parameters, buffers: buffers)
        }
        return out
    }

    // MARK: modes

    /// Sets training mode here and below (dropout, drop path, BatchNorm statistics). Training drops any
    /// inference optimization (its folded weights would go stale).
    @discardableResult
    public func train(_ on: Bool = true) -> Self {
        if on { removeInferenceOptimization() }
        for (_, m) in namedModules() { m.isTraining = on }
        return self
    }

    @discardableResult
    public func eval() -> Self { train(false) }

    /// Moves (and optionally converts) every parameter and buffer in place. Integer buffers keep their dtype.
    @discardableResult
    public func to(device: Device, dtype: DType? = nil) -> Self {
        removeInferenceOptimization()
        Torch.noGrad {
            for (_, t) in stateDict() {
                let target = (dtype != nil && t.dtype.isFloatingPoint) ? dtype! : t.dtype
                guard t.device != device || t.dtype != target else { continue }
                let wasTrainable = t.requiresGrad
                let moved = t.detach().to(dtype: target, device: device)
                t.assign(moved)
                if wasTrainable { t.requiresGrad = true }
            }
        }
        return self
    }

    /// Lays out every image-shaped parameter and buffer in `memoryFormat`, in place (`model.to(memory_format=...)`):
    /// with `.channelsLast` (4-D) convolutions on CUDA take cuDNN's NHWC kernels. Feed inputs in the same format
    /// (`x.contiguous(memoryFormat: .channelsLast)`); results keep NCHW sizes, so model code is unchanged.
    @discardableResult
    public func to(memoryFormat: MemoryFormat) -> Self {
        precondition(memoryFormat != .preserve, "Module.to(memoryFormat:) needs a concrete format")
        let rank = memoryFormat == .channelsLast3d ? 5 : 4
        Torch.noGrad {
            for (_, t) in stateDict() where t.rank == rank && !t.isContiguous(memoryFormat: memoryFormat) {
                let wasTrainable = t.requiresGrad
                t.assign(t.detach().contiguous(memoryFormat: memoryFormat))
                if wasTrainable { t.requiresGrad = true }
            }
        }
        return self
    }

    /// Drops every parameter's gradient.
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
}
