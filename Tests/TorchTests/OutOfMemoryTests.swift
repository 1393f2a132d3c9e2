import CTorch
import Foundation
import Testing
@testable import Torch

/// Error kinds from the shim, and out-of-memory errors surfacing as thrown errors: from the throwing forms
/// directly, and from trapping forms deep in a model forward through `Torch.catchingOutOfMemory`.
///
/// The injected failure is a CPU tensor of 2^48 floats (1 PiB): the allocation fails at once (beyond the
/// address space and the kernel's overcommit limit), nothing is touched.
@Suite("OutOfMemory")
struct OutOfMemoryTests {
    static let absurd = [1 << 48]

    @Test("an absurd allocation through the throwing form is a TorchError of kind outOfMemory with a hint")
    func checkedAllocation() {
        let error = #expect(throws: TorchError.self) { _ = try Tensor.Checked.empty(Self.absurd) }
        #expect(error?.kind == .outOfMemory)
        #expect(error?.operation == "empty")
        #expect(error?.message.contains("1125899906842624 bytes") == true, "\(error?.message ?? "")")
        #expect(error?.hint?.contains("smaller batch or crop") == true)
        #expect(error?.description.contains("bf16") == true)
        let viaOp = #expect(throws: TorchError.self) { _ = try Tensor.ones([1, 1]).checked.expand(Self.absurd + [1]).checked.contiguous() }
        #expect(viaOp?.kind == .outOfMemory)
        #expect(Tensor.ones([2]).sum().item() == 2)  // the process carries on
    }

    @Test("other failures get their kinds: value (index/value/type errors), device, other")
    func errorKinds() {
        let x = Tensor.zeros([2, 3])
        #expect((#expect(throws: TorchError.self) { _ = try x.checked.select(0, 5) })?.kind == .value)  // IndexError
        #expect((#expect(throws: TorchError.self) { _ = try x.checked.matmul(Tensor.zeros([4, 5])) })?.kind == .other)
        #expect((#expect(throws: TorchError.self) { _ = try Tensor([1.5] as [Float]).checked.bincount() })?.kind == .other)
        if !Torch.cuda.isAvailable {
            let pin = #expect(throws: TorchError.self) { _ = try x.checked.pinMemory() }
            #expect(pin?.kind == .device, "\(pin?.message ?? "")")
            #expect((#expect(throws: TorchError.self) { _ = try Torch.cuda.memory(device: 0) })?.kind == .device)
        }
    }

    /// conv -> BN -> GELU -> an absurd repeat (256 TiB) -> conv -> BN -> LN -> pool -> upsample -> cross-entropy,
    /// all trapping forms, in training mode (BatchNorm updates its running statistics).
    final class Net: Module {
        let conv1 = Conv2d(3, 8, kernel: 3, stride: 2, padding: 1)
        let bn1 = BatchNorm2d(8)
        let conv2 = Conv2d(8, 5, kernel: 1)
        let bn2 = BatchNorm2d(5)
        let norm = LayerNorm(5, channelsFirst: true)
        var blowUp = false
        var shapes: [[Int]] = []
        override init() {
            super.init()
            register(modules: ("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("norm", norm))
        }
        func loss(_ x: Tensor, _ labels: Tensor) -> Tensor {
            var h = F.gelu(bn1(conv1(x)))
            if blowUp { h = h.repeated([1 << 36, 1, 1, 1]).narrow(0, start: 0, length: x.size(0)) }
            shapes.append(h.shape)
            h = norm(bn2(conv2(h)))
            let pooled = F.adaptiveAvgPool2d(h, (3, 5))
            h = h + F.interpolate(pooled, size: (h.size(2), h.size(3)))
            let logits = F.interpolate(h, size: (x.size(2), x.size(3)))
            shapes.append(logits.shape)
            let loss = F.crossEntropy(logits, labels, ignoreIndex: 255)
            shapes.append(loss.shape)
            return loss
        }
    }

    @Test("an OOM inside a model forward made of trapping ops is thrown at the boundary; nothing after it is changed")
    func trappingFormsInsideModel() throws {
        Torch.manualSeed(0)
        let net = Net()
        let x = Tensor.randn([2, 3, 16, 16]), labels = Tensor.randint(0, 5, [2, 16, 16])
        let before = net.stateDict().map { ($0.0, doubles($0.1)) }
        let bn1Mean = doubles(net.bn1.runningMean)

        net.blowUp = true
        var reachedEnd = false
        let error = #expect(throws: TorchError.self) {
            try Torch.catchingOutOfMemory {
                let loss = net.loss(x, labels)
                loss.backward()
                reachedEnd = true
                return loss.item()
            }
        }
        #expect(error?.kind == .outOfMemory)
        #expect(error?.operation == "repeat")
        #expect(reachedEnd, "the forward ran on, shape-only, to the end of the block")
        // The shapes after the failure are the real ones, computed without memory.
        #expect(net.shapes == [[2, 8, 8, 8], [2, 5, 16, 16], []])
        #expect(ts_meta_mode_active() == 0)
        #expect(net.parameters.allSatisfy { $0.grad == nil })
        // Work before the failure stays done (bn1 saw the batch); nothing after it touched a real tensor.
        #expect(doubles(net.bn1.runningMean) != bn1Mean)
        for (key, values) in before where !key.hasPrefix("bn1.") {
            #expect(doubles(net.stateDict().first { $0.0 == key }!.1) == values, "\(key) changed")
        }

        // The same model works normally afterwards, inside and outside a boundary.
        net.blowUp = false
        net.shapes = []
        let loss = try Torch.catchingOutOfMemory { net.loss(x, labels) }
        #expect(loss.item().isFinite && loss.item() > 0)
        loss.backward()
        #expect(net.conv1.weight.grad != nil)
        #expect(net.shapes == [[2, 8, 8, 8], [2, 5, 16, 16], []])
    }

    @Test("the shim's shape-only kernels give every op's real output shape")
    func shapeOnlyKernels() throws {
        let x = Tensor.randn([2, 4, 12, 10]), w = Tensor.randn([6, 2, 3, 3]), labels = Tensor.randint(0, 4, [2, 12, 10])
        let q = Tensor.randn([2, 2, 7, 8]), k = Tensor.randn([2, 2, 9, 8])
        let ops: [(String, () -> Tensor)] = [
            ("conv2d", { F.conv2d(x, weight: w, stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2) }),
            ("batchNorm", { F.batchNorm(x, runningMean: Tensor.zeros([4]), runningVar: Tensor.ones([4]), weight: nil, bias: nil, training: true) }),
            ("layerNorm", { F.layerNorm(x, shape: [10], weight: nil, bias: nil) }),
            ("groupNorm", { F.groupNorm(x, groups: 2, weight: nil, bias: nil) }),
            ("adaptiveAvgPool2d", { F.adaptiveAvgPool2d(x, (5, 21)) }),
            ("sdpa", { F.scaledDotProductAttention(q, k, k) }),
            ("crossEntropy", { F.crossEntropy(x, labels, ignoreIndex: 255) }),
            ("crossEntropyNone", { F.crossEntropy(x, labels, reduction: .none, labelSmoothing: 0.1) }),
            ("where", { Tensor.where(x .> 0, x, Tensor.zeros([10])) }),
            ("indexSelect", { x.indexSelect(1, Tensor([0, 2, 3] as [Int64])) }),
            ("variance", { x.variance([1, 3], keepDim: true) }),
            ("flip", { x.flip([2]) }),
            ("relu", { F.relu(x) }),
            ("abs", { x.abs() }),
            ("isNaN", { x.isNaN() }),
            ("isInf", { x.isInf() }),
            ("logical", { (x .> 0).logicalNot() .& (x .< 1) .| (x .== 0) }),
            ("toArray", { Tensor(x.mean([0, 1]).toArray(Float.self), shape: [12, 10]) }),
        ]
        let real = ops.map { $0.1().shape }
        var shapeOnly: [[Int]] = []
        _ = try? Torch.catchingOutOfMemory {
            _ = Tensor.zeros(Self.absurd)  // switches this thread to shape-only execution
            shapeOnly = ops.map { $0.1().shape }
        }
        for (i, op) in ops.enumerated() { #expect(shapeOnly[i] == real[i], "\(op.0)") }
    }

    @Test("scopes nest: an inner OOM is thrown by the inner block and the outer one carries on")
    func nestedScopes() throws {
        let value = try Torch.catchingOutOfMemory { () -> Double in
            let inner = #expect(throws: TorchError.self) { try Torch.catchingOutOfMemory { Tensor.ones(Self.absurd).sum().item() } }
            #expect(inner?.kind == .outOfMemory)
            return (Tensor.ones([3]) * 2).sum().item()
        }
        #expect(value == 6)
        // A non-OOM error inside a block propagates unchanged.
        let other = #expect(throws: TorchError.self) { try Torch.catchingOutOfMemory { try Tensor.zeros([2]).checked.reshape([3]) } }
        #expect(other?.kind == .other && other?.operation == "reshape")
    }
}
