// The CPU inference forms of Conv2d and Linear: weights with neighbouring BatchNorms and per-channel scales
// folded in (in float64, then float32), reordered once into oneDNN's blocked layout, run by the fused oneDNN
// kernels (bias, activation or a residual addition in the same pass). See `Module.optimizeForInference`.

import CTorch
import Foundation

/// A Conv2d's inference form.
public final class PackedConv2d {
    /// How the convolution runs. A 1x1 conv with stride 1, no padding and groups 1 on a channels-last map is a matrix
    /// product over the map's pixels (B·H·W x C, a view): it runs as oneDNN's inner product, which is as fast as its
    /// 1x1 convolution where that is good and avoids its slow cases on AVX2 (e.g. 2048 -> 512 channels on a 16x16 map:
    /// 72 ms as a conv, 8 ms as an inner product, one thread).
    public enum Kernel: Sendable { case convolution, pointwise }

    /// Pointwise: the oneDNN-layout inner-product weight. Convolution: the folded float32 weight [O, I/groups, kh, kw],
    /// packed per input shape on first use (`packs`).
    public let weight: Tensor
    public let bias: Tensor?
    /// oneDNN chooses a convolution's weight layout for an input shape. Packed without one, some convolutions run an
    /// order of magnitude slower (LRFormer-S's 320 -> 512, 3x3 stride-2 patch embedding on a 32x32 map: 68 ms instead
    /// of 5 ms; 128 -> 320 on 64x64: 22 instead of 6), so each input shape gets its own packing, as inductor's
    /// freezing packs for its example input. The few most recent shapes are kept (predict meets many sizes).
    private let packs = PackedWeightsByShape(capacity: 4)
    public let geometry: OneDNN.ConvGeometry
    public let kernel: Kernel
    /// The layer scale folded into the weights, if any (identity, to recognise it at call time).
    public let outputScale: Tensor?
    /// The plain weight, for the op recorder's shapes (FLOP counting of an optimized model).
    let plainWeight: Tensor
    let outChannels: Int

    /// Packs a folded float32 CPU weight [O, I/groups, kh, kw].
    init(folded w: Tensor, bias: Tensor?, geometry: OneDNN.ConvGeometry, outputScale: Tensor?, plainWeight: Tensor) {
        let pointwise = w.size(2) == 1 && w.size(3) == 1 && geometry == OneDNN.ConvGeometry(stride: (1, 1), padding: (0, 0),
                                                                                            dilation: (1, 1), groups: 1)
        kernel = pointwise ? .pointwise : .convolution
        outChannels = w.size(0)
        weight = pointwise ? Tensor.trap { try OneDNN.Checked.packLinearWeight(w.view([w.size(0), w.size(1)])) } : w
        self.bias = bias
        self.geometry = geometry
        self.outputScale = outputScale
        self.plainWeight = plainWeight
    }

    /// Packs a plain float32 CPU weight [O, I/groups, kh, kw] (e.g. weights a layer derived from its own for its
    /// inference form); nil where packing does not apply.
    public static func pack(weight: Tensor, bias: Tensor?, geometry: OneDNN.ConvGeometry) -> PackedConv2d? {
        guard canPack(weight) else { return nil }
        let w = weight.detach().contiguous()
        return PackedConv2d(folded: w, bias: bias?.detach().contiguous(), geometry: geometry, outputScale: nil, plainWeight: w)
    }

    /// activation(conv(x) [+ other]). The plain path's layout is kept: a channels-last input gives a channels-last
    /// output, any other a contiguous one.
    public func callAsFunction(_ x: Tensor, activation: Activation = .identity, adding other: Tensor? = nil) -> Tensor {
        let y: Tensor
        switch kernel {
        case .pointwise:
            y = pointwise(x.contiguous(memoryFormat: .channelsLast), activation: activation, adding: other)
        case .convolution:
            y = OneDNN.conv2d(x, packedWeight: convolutionWeight(for: x), bias: bias, geometry: geometry, activation: activation,
                              adding: other)
        }
        OpRecorder.note("conv2d", [x, plainWeight], y, ["groups": geometry.groups, "bias": bias == nil ? 0 : 1])
        return x.isContiguous(memoryFormat: .channelsLast) ? y : y.contiguous()
    }

    /// residual + conv(x), then ReLU with `relu`. A convolution writes into `residual` itself where oneDNN can
    /// (channels-last residual, groups 1: its sum post-op), a pointwise conv into a new tensor; either way no copy.
    /// Returns the result.
    public func accumulate(_ x: Tensor, into residual: Tensor, relu: Bool = false) -> Tensor {
        guard kernel == .convolution, geometry.groups == 1, residual.isContiguous(memoryFormat: .channelsLast), x.isContiguous(memoryFormat: .channelsLast) else {
            return self(x, activation: relu ? .relu : .identity, adding: residual)
        }
        Tensor.trap {
            try OneDNN.Checked.conv2dAccumulate(x, packedWeight: convolutionWeight(for: x), bias: bias, geometry: geometry,
                                                into: residual, relu: relu)
        }
        OpRecorder.note("conv2d", [x, plainWeight], residual, ["groups": geometry.groups, "bias": bias == nil ? 0 : 1])
        return residual
    }

    /// Input shapes with a packed weight held, least recently used first.
    var packedShapes: [[Int]] { packs.shapes }

    /// The weight packed for x's shape (packed now if this shape is new).
    private func convolutionWeight(for x: Tensor) -> Tensor {
        packs.weight(for: x.shape) { shape in
            Tensor.trap { try OneDNN.Checked.packConv2dWeight(weight, geometry: geometry, inputSize: shape) }
        }
    }

    /// A 1x1 conv on a channels-last map as an inner product over its pixels: B,C,H,W -> B·H·W,C (a view) -> B,O,H,W.
    private func pointwise(_ x: Tensor, activation: Activation, adding other: Tensor?) -> Tensor {
        let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
        func tokens(_ t: Tensor, _ channels: Int) -> Tensor { t.permute(0, 2, 3, 1).reshape([b * h * w, channels]) }
        let out: Tensor
        if let other {
            // oneDNN's inner product takes the addition or a pointwise op, not both: the op (ReLU) follows in place.
            out = OneDNN.linear(tokens(x, c), packedWeight: weight, bias: bias, adding: tokens(other.contiguous(memoryFormat: .channelsLast), outChannels))
            precondition(activation == .identity || activation == .relu, "PackedConv2d: only ReLU can follow a fused addition")
            if activation == .relu { out.relu_() }
        } else {
            out = OneDNN.linear(tokens(x, c), packedWeight: weight, bias: bias, activation: activation)
        }
        return out.view([b, h, w, outChannels]).permute(0, 3, 1, 2)  // B·H·W,O -> B,O,H,W (channels-last view)
    }
}

/// Packed weights of one convolution for its most recent input shapes (least recently used one evicted).
final class PackedWeightsByShape: @unchecked Sendable {
    private let capacity: Int
    private var entries: [(shape: [Int], weight: Tensor)] = []  // most recent last
    private let lock = NSLock()

    init(capacity: Int) { self.capacity = capacity }

    func weight(for shape: [Int], pack: ([Int]) -> Tensor) -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        if let i = entries.firstIndex(where: { $0.shape == shape }) {
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry.weight
        }
        let weight = pack(shape)
        // After an out-of-memory the thread runs shape-only ops (meta mode): that placeholder must not be kept.
        if ts_meta_mode_active() != 0 { return weight }
        entries.append((shape, weight))
        if entries.count > capacity { entries.removeFirst() }
        return weight
    }

    /// Shapes held, least recent first (for tests).
    var shapes: [[Int]] {
        lock.lock()
        defer { lock.unlock() }
        return entries.map(\.shape)
    }
}

/// A Linear's inference form.
public final class PackedLinear {
    public let weight: Tensor
    public let bias: Tensor?
    let plainWeight: Tensor

    init(weight: Tensor, bias: Tensor?, plainWeight: Tensor) {
        self.weight = weight
        self.bias = bias
        self.plainWeight = plainWeight
    }

    public func callAsFunction(_ x: Tensor, activation: Activation = .identity, adding other: Tensor? = nil) -> Tensor {
        let y = OneDNN.linear(x, packedWeight: weight, bias: bias, activation: activation, adding: other)
        OpRecorder.note("linear", [x, plainWeight], y, ["bias": bias == nil ? 0 : 1])
        return y
    }
}

extension BatchNorm2d {
    /// The eval-mode normalisation as a per-channel affine map y = x · scale + shift (float64, for folding).
    public var evalAffine: (scale: Tensor, shift: Tensor) {
        let a = BatchNormAffine(self)
        return (a.scale, a.shift)
    }
}

/// Per-channel affine form of an eval-mode BatchNorm: y = x · scale + shift (float64).
struct BatchNormAffine {
    let scale: Tensor
    let shift: Tensor

    init(_ bn: BatchNorm2d) {
        let std = (bn.runningVar.detach().to(.float64) + bn.eps).sqrt()
        scale = bn.weight.detach().to(.float64) / std
        shift = bn.bias.detach().to(.float64) - bn.runningMean.detach().to(.float64) * scale
    }
}

/// Whether inference packing applies to weights like this one (float32 on the CPU, with oneDNN).
func canPack(_ weight: Tensor) -> Bool {
    OneDNN.isAvailable && weight.device == .cpu && weight.dtype == .float32
}

extension Conv2d {
    public var canPackForInference: Bool { canPack(weight) }

    /// Builds this conv's inference form, folding in:
    /// - `batchNorm`: an eval-mode BatchNorm2d applied to this conv's output;
    /// - `inputBatchNorm`: one applied to its input (exact only without padding and with groups 1: the 1x1 convs);
    /// - `outputScale`: a per-output-channel factor (a layer scale, any shape with C elements), applied last.
    /// Returns false (and packs nothing) where packing does not apply.
    @discardableResult
    public func packForInference(foldingBatchNorm batchNorm: BatchNorm2d? = nil, inputBatchNorm: BatchNorm2d? = nil,
                                 outputScale: Tensor? = nil) -> Bool {
        guard canPackForInference else { return false }
        if inputBatchNorm != nil {
            precondition(groups == 1 && padding == (0, 0), "Conv2d: an input BatchNorm folds only into an unpadded conv with groups 1")
        }
        let outChannels = weight.size(0)
        let (w, b): (Tensor, Tensor?) = Torch.noGrad {
            var w = weight.detach().to(.float64)
            var b: Tensor? = bias?.detach().to(.float64)
            if let inputBatchNorm {
                // conv(x·s + t) = conv_{W·s}(x) + Σ W·t
                let bn = BatchNormAffine(inputBatchNorm)
                let shiftTerm = (w * bn.shift.view([1, -1, 1, 1])).sum([1, 2, 3])
                w = w * bn.scale.view([1, -1, 1, 1])
                b = (b ?? Tensor.zeros([outChannels], dtype: .float64)) + shiftTerm
            }
            if let batchNorm {
                let bn = BatchNormAffine(batchNorm)
                w = w * bn.scale.view([-1, 1, 1, 1])
                b = (b ?? Tensor.zeros([outChannels], dtype: .float64)) * bn.scale + bn.shift
            }
            if let outputScale {
                let s = outputScale.detach().to(.float64).reshape([outChannels])
                w = w * s.view([-1, 1, 1, 1])
                b = b.map { $0 * s }
            }
            return (w.to(.float32).contiguous(), b?.to(.float32).contiguous())
        }
        let geometry = OneDNN.ConvGeometry(stride: stride, padding: padding, dilation: dilation, groups: groups)
        packed = PackedConv2d(folded: w, bias: b, geometry: geometry, outputScale: outputScale, plainWeight: weight)
        return true
    }
}

extension Linear {
    public var canPackForInference: Bool { canPack(weight) }

    @discardableResult
    public func packForInference() -> Bool {
        guard canPackForInference else { return false }
        let packedWeight = Tensor.trap { try OneDNN.Checked.packLinearWeight(weight.detach()) }
        packed = PackedLinear(weight: packedWeight, bias: bias?.detach(), plainWeight: weight)
        return true
    }
}

extension Module {
    /// Prepares the model for fast CPU inference: eval mode, BatchNorm folded into neighbouring convolutions,
    /// weights reordered once for oneDNN, activations and residual additions fused into the convolutions and linear
    /// layers that produce them (each layer's `prepareForInference`). Outputs equal the plain forward's within
    /// float32 rounding. Parameters and state_dict keys are untouched; `train()`, `to(device:dtype:)` and loading
    /// weights undo it. Returns false, and leaves the plain forward, off the CPU, for weights that are not float32,
    /// or without oneDNN.
    @discardableResult
    public func optimizeForInference() -> Bool {
        eval()
        guard OneDNN.isAvailable, parameters.allSatisfy({ canPack($0) }) else { return false }
        Torch.noGrad {
            for (_, m) in namedModules() { m.prepareForInference() }
        }
        return true
    }

    /// Back to the plain forward (what `train()` and weight loading do on their own).
    public func removeInferenceOptimization() {
        for (_, m) in namedModules() { m.discardInferencePreparation() }
    }

    /// Whether any layer runs its inference form.
    public var isOptimizedForInference: Bool {
        namedModules().contains { ($0.1 as? Conv2d)?.packed != nil || ($0.1 as? Linear)?.packed != nil }
    }
}
