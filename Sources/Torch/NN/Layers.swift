import Foundation
import TorchIO

/// `nn.Linear` (weight [out, in]).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?
    /// The CPU inference form, while the model is optimized for inference (`Module.optimizeForInference`).
    public internal(set) var packed: PackedLinear?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = Tensor.empty([outFeatures, inFeatures])
        self.bias = bias ? Tensor.empty([outFeatures]) : nil
        super.init()
        Init.pytorchDefault_(weight: weight, bias: self.bias)
        register(parameters: ("weight", weight), ("bias", self.bias))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { self(x, activation: .identity) }

    /// activation(linear(x)): one oneDNN pass when optimized for inference.
    public func callAsFunction(_ x: Tensor, activation: Activation) -> Tensor {
        if let packed, x.rank >= 2 { return packed(x, activation: activation) }
        return activation(F.linear(x, weight: weight, bias: bias))
    }

    /// linear(x) + other (other shaped like the output): the addition rides in the same pass when optimized.
    public func callAsFunction(_ x: Tensor, adding other: Tensor) -> Tensor {
        if let packed, x.rank >= 2 { return packed(x, adding: other) }
        return F.linear(x, weight: weight, bias: bias) + other
    }

    public override func prepareForInference() {
        if packed == nil { packForInference() }
    }

    public override func discardInferencePreparation() { packed = nil }
}

/// `nn.Conv2d` (weight [out, in/groups, kh, kw]).
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, bias: Bool = true) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "Conv2d: channels must divide by groups")
        weight = Tensor.empty([outChannels, inChannels / groups, kernel, kernel])
        self.bias = bias ? Tensor.empty([outChannels]) : nil
        self.stride = (stride, stride)
        self.padding = (padding, padding)
        self.dilation = (dilation, dilation)
        self.groups = groups
        super.init()
        Init.pytorchDefault_(weight: weight, bias: self.bias)
        register(parameters: ("weight", weight), ("bias", self.bias))
    }

    /// A depth-wise conv: one filter per channel.
    public static func depthwise(_ channels: Int, kernel: Int = 3, stride: Int = 1, bias: Bool = true) -> Conv2d {
        Conv2d(channels, channels, kernel: kernel, stride: stride, padding: kernel / 2, groups: channels, bias: bias)
    }

    /// The CPU inference form, while the model is optimized for inference (`Module.optimizeForInference`).
    public internal(set) var packed: PackedConv2d?

    public override func callAsFunction(_ x: Tensor) -> Tensor { self(x, activation: .identity) }

    /// activation(conv(x)): one oneDNN pass when optimized for inference.
    public func callAsFunction(_ x: Tensor, activation: Activation) -> Tensor {
        if let packed { return packed(x, activation: activation) }
        return activation(F.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups))
    }

    /// activation(conv(x) + other), other shaped like the output (a residual); one pass when optimized. Only ReLU
    /// (or nothing) may follow the addition.
    public func callAsFunction(_ x: Tensor, adding other: Tensor, activation: Activation = .identity) -> Tensor {
        if let packed { return packed(x, activation: activation, adding: other) }
        return activation(self(x) + other)
    }

    /// residual + scale · conv(x), `scale` nil or a per-output-channel factor with C elements (a layer scale).
    /// Optimized for inference (with this scale folded in: `packForInference(outputScale:)`), conv, scale and
    /// addition are one oneDNN pass that writes into `residual` itself: pass a residual that nothing reads afterwards
    /// (the plain path, which autograd uses, never modifies it).
    public func callAsFunction(_ x: Tensor, scaledBy scale: Tensor? = nil, accumulatingInto residual: Tensor) -> Tensor {
        if let packed, packed.outputScale === scale { return packed.accumulate(x, into: residual) }
        guard let scale else { return self(x, adding: residual) }
        return residual.addcmul(self(x), scale.view([1, -1, 1, 1]))
    }

    public override func prepareForInference() {
        if packed == nil { packForInference() }
    }

    public override func discardInferencePreparation() { packed = nil }
}

/// `nn.LayerNorm` over the last dimension, or, with `channelsFirst`, over the channels of an NCHW map
/// (ConvNeXt's "channels-first" LayerNorm: same parameters, applied at every pixel).
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Double
    public let channelsFirst: Bool
    let dim: Int

    public init(_ dim: Int, eps: Double = 1e-5, channelsFirst: Bool = false) {
        weight = Tensor.ones([dim])
        bias = Tensor.zeros([dim])
        self.eps = eps
        self.dim = dim
        self.channelsFirst = channelsFirst
        super.init()
        register(parameters: ("weight", weight), ("bias", bias))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        guard channelsFirst else { return F.layerNorm(x, shape: [dim], weight: weight, bias: bias, eps: eps) }
        // B,C,H,W -> B,H,W,C -> norm -> B,C,H,W
        return F.layerNorm(x.permute(0, 2, 3, 1), shape: [dim], weight: weight, bias: bias, eps: eps).permute(0, 3, 1, 2)
    }
}

/// `nn.GroupNorm` over an NCHW map: channels split into `groups`, each normalised over its channels and pixels.
public final class GroupNorm: Module {
    public let groups: Int
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Double

    public init(groups: Int, channels: Int, eps: Double = 1e-5) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        self.groups = groups
        weight = Tensor.ones([channels])
        bias = Tensor.zeros([channels])
        self.eps = eps
        super.init()
        register(parameters: ("weight", weight), ("bias", bias))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { F.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps) }
}

/// `nn.BatchNorm2d` with running statistics updated as PyTorch does (momentum, unbiased variance).
/// With a `processGroup` of more than one process it is `nn.SyncBatchNorm` in training: statistics
/// over the global batch (see `Module.useSyncBatchNorm`).
public final class BatchNorm2d: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let numBatchesTracked: Tensor
    public let eps: Double
    public let momentum: Double
    /// The group whose global batch the statistics cover in training; nil (single process) is plain BatchNorm.
    public var processGroup: ProcessGroup?

    public init(_ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1) {
        weight = Tensor.ones([channels])
        bias = Tensor.zeros([channels])
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.ones([channels])
        numBatchesTracked = Tensor.zeros([], dtype: .int64)
        self.eps = eps
        self.momentum = momentum
        super.init()
        register(parameters: ("weight", weight), ("bias", bias))
        register(buffers: ("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        if isTraining {
            Torch.noGrad { numBatchesTracked.add_(Tensor.scalar(1, dtype: .int64, device: numBatchesTracked.device)) }
            if let group = processGroup, group.size > 1 {
                return F.syncBatchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                       momentum: momentum, eps: eps, group: group)
            }
        }
        return F.batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                           training: isTraining, momentum: momentum, eps: eps)
    }
}

/// A layer whose randomness a training config can switch off or rescale (`model.dropout`, `model.dropPath`).
public protocol StochasticLayer: AnyObject {
    /// Drop probability.
    var rate: Double { get set }
    /// true: stochastic depth (a residual branch dropped per sample); false: element or channel dropout.
    var isDropPath: Bool { get }
}

extension Module {
    /// Sets every dropout probability to `dropout`, and rescales the stochastic-depth rates so that the largest is
    /// `dropPath` (the linear rise over the blocks is kept; 0 turns it off). nil leaves that kind as built.
    public func overrideStochasticRates(dropout: Double?, dropPath: Double?) {
        let layers = namedModules().compactMap { $0.1 as? StochasticLayer }
        if let dropout { for l in layers where !l.isDropPath { l.rate = dropout } }
        if let dropPath {
            let depth = layers.filter(\.isDropPath)
            let largest = depth.map(\.rate).max() ?? 0
            for l in depth { l.rate = largest > 0 ? l.rate * dropPath / largest : dropPath }
        }
    }
}

public final class Dropout: Module, StochasticLayer {
    public var p: Double
    public var rate: Double { get { p } set { p = newValue } }
    public var isDropPath: Bool { false }
    public init(_ p: Double = 0.5) { self.p = p; super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { F.dropout(x, p: p, training: isTraining) }
}

/// Zeroes whole channels of an NCHW map.
public final class Dropout2d: Module, StochasticLayer {
    public var p: Double
    public var rate: Double { get { p } set { p = newValue } }
    public var isDropPath: Bool { false }
    public init(_ p: Double = 0.5) { self.p = p; super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { F.dropout2d(x, p: p, training: isTraining) }
}

/// Stochastic depth on a residual branch.
public final class DropPath: Module, StochasticLayer {
    public var p: Double
    public var rate: Double { get { p } set { p = newValue } }
    public var isDropPath: Bool { true }
    public init(_ p: Double) { self.p = p; super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { F.dropPath(x, p: p, training: isTraining) }
}

public final class GELU: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { F.gelu(x) }
}

public final class Hardswish: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { F.hardswish(x) }
}

public final class ReLU: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { F.relu(x) }
}

public final class Identity: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) -> Tensor { x }
}

/// Runs its children in order; they are named 0, 1, 2, ... like `nn.Sequential`.
public final class Sequential: Module {
    public let layers: [Module]
    /// While optimized for inference: the layers with each BatchNorm and activation folded into the conv or linear
    /// layer before it.
    private var plan: [(layer: Module, activation: Activation)]?

    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
        for (i, m) in layers.enumerated() { register(modules: (String(i), m)) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        guard let plan else { return layers.reduce(x) { $1($0) } }
        return plan.reduce(x) { y, step in
            switch step.layer {
            case let conv as Conv2d: return conv(y, activation: step.activation)
            case let linear as Linear: return linear(y, activation: step.activation)
            default: return step.layer(y)
            }
        }
    }

    /// Folds (Conv2d, BatchNorm2d) pairs and fuses the activation layer that follows a Conv2d or Linear.
    public override func prepareForInference() {
        guard plan == nil, layers.allSatisfy({ ($0 as? Conv2d)?.canPackForInference ?? ($0 as? Linear)?.canPackForInference ?? true })
        else { return }
        var steps: [(layer: Module, activation: Activation)] = []
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            var next = i + 1
            if let conv = layer as? Conv2d, conv.packed == nil {
                let bn = next < layers.count ? layers[next] as? BatchNorm2d : nil
                if bn != nil { next += 1 }
                conv.packForInference(foldingBatchNorm: bn)
            } else if let linear = layer as? Linear, linear.packed == nil {
                linear.packForInference()
            }
            var activation = Activation.identity
            if layer is Conv2d || layer is Linear, next < layers.count, let a = layers[next] as? ActivationLayer {
                activation = a.activation
                next += 1
            }
            steps.append((layer, activation))
            i = next
        }
        plan = steps
    }

    public override func discardInferencePreparation() { plan = nil }
}

/// An indexed list of modules named 0, 1, 2, ... (`nn.ModuleList`); forward is up to the owner.
public final class ModuleList<M: Module>: Module {
    public let items: [M]

    public init(_ items: [M]) {
        self.items = items
        super.init()
        for (i, m) in items.enumerated() { register(modules: (String(i), m)) }
    }

    public subscript(_ i: Int) -> M { items[i] }
    public var count: Int { items.count }
}
