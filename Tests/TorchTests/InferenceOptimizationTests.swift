import Foundation
import Testing
import TorchIO
@testable import Torch

/// The CPU inference forms (folded BatchNorm, oneDNN-packed weights, fused activations and additions) against the
/// plain layers, and against real PyTorch where a fixture exists.
@Suite("InferenceOptimization", .enabled(if: OneDNN.isAvailable, "libtorch without oneDNN"))
struct InferenceOptimizationTests {
    /// BatchNorm with non-trivial statistics and affine, in eval mode.
    static func randomBatchNorm(_ c: Int) -> BatchNorm2d {
        let bn = BatchNorm2d(c)
        Torch.noGrad {
            bn.weight.copy_(Tensor.rand([c]) + 0.5)
            bn.bias.copy_(Tensor.randn([c]))
            bn.runningMean.copy_(Tensor.randn([c]))
            bn.runningVar.copy_(Tensor.rand([c]) + 0.3)
        }
        return bn.eval()
    }

    @Test("Conv2d + BatchNorm + activation folded: plain output within 1e-5, layout kept (NCHW in -> NCHW out, NHWC -> NHWC)",
          arguments: [Activation.identity, .relu, .gelu, .geluTanh, .hardswish, .silu, .sigmoid])
    func convBatchNorm(activation: Activation) throws {
        Torch.manualSeed(1)
        for (groups, kernel, stride) in [(1, 3, 1), (1, 1, 1), (8, 3, 2), (2, 3, 1)] {
            let conv = Conv2d(8, 16, kernel: kernel, stride: stride, padding: kernel / 2, groups: groups, bias: groups != 2)
            let bn = Self.randomBatchNorm(16)
            let seq = Sequential(conv, bn)
            seq.eval()
            let x = Tensor.randn([2, 8, 13, 11])
            let want = Torch.inferenceMode { activation(bn(conv(x))) }
            #expect(conv.packForInference(foldingBatchNorm: bn))
            for input in [x, x.contiguous(memoryFormat: .channelsLast)] {
                let got = Torch.inferenceMode { conv(input, activation: activation) }
                expectClose(got, want, rtol: 1e-5, atol: 1e-5, "groups \(groups) kernel \(kernel) \(activation)")
                #expect(got.isContiguous(memoryFormat: .channelsLast) == input.isContiguous(memoryFormat: .channelsLast))
                #expect(input.isContiguous(memoryFormat: .channelsLast) || got.isContiguous)
            }
            conv.discardInferencePreparation()
            #expect(conv.packed == nil)
        }
    }

    @Test("a packed convolution is packed per input shape: every shape gives the plain output, the 4 latest are kept")
    func packedPerInputShape() throws {
        Torch.manualSeed(2)
        let conv = Conv2d(12, 20, kernel: 3, stride: 2, padding: 1)
        conv.eval()
        let sizes = [(16, 16), (9, 13), (16, 16), (20, 8), (7, 7), (11, 5)]
        let inputs = sizes.map { Tensor.randn([1, 12, $0.0, $0.1]).contiguous(memoryFormat: .channelsLast) }
        let wants = inputs.map { x in Torch.inferenceMode { conv(x) } }
        #expect(conv.packForInference(foldingBatchNorm: nil))
        let packed = try #require(conv.packed)
        for (x, want) in zip(inputs, wants) {
            expectClose(Torch.inferenceMode { conv(x) }, want, rtol: 1e-5, atol: 1e-5, "input \(x.shape)")
        }
        // 5 distinct shapes met, (16, 16) twice: the least recently used one, (9, 13), was evicted.
        #expect(packed.packedShapes == [[1, 12, 16, 16], [1, 12, 20, 8], [1, 12, 7, 7], [1, 12, 11, 5]])
        expectClose(Torch.inferenceMode { conv(inputs[1]) }, wants[1], rtol: 1e-5, atol: 1e-5, "repacked after eviction")
    }

    @Test("fused residual: conv(x) + other (+ ReLU), depth-wise and dense; a folded layer scale accumulated in place")
    func convAdd() throws {
        Torch.manualSeed(2)
        for groups in [1, 16] {
            let conv = Conv2d(16, 16, kernel: 3, padding: 1, groups: groups).eval()
            let x = Tensor.randn([1, 16, 9, 10]).contiguous(memoryFormat: .channelsLast)
            let other = Tensor.randn([1, 16, 9, 10]).contiguous(memoryFormat: .channelsLast)
            let scale = Tensor.rand([16]) + 0.1
            let plainAdd = Torch.inferenceMode { conv(x) + other }
            let plainRelu = Torch.inferenceMode { F.relu(conv(x) + other) }
            let plainScaled = Torch.inferenceMode { other + conv(x) * scale.view([1, 16, 1, 1]) }
            let untouched = other.clone()
            expectClose(Torch.inferenceMode { conv(x, scaledBy: scale, accumulatingInto: other) }, plainScaled, rtol: 1e-6, atol: 1e-6,
                        "plain scaled")
            #expect((other - untouched).abs().max().item() == 0, "the plain path never writes into the residual")
            conv.packForInference()
            expectClose(Torch.inferenceMode { conv(x, adding: other) }, plainAdd, rtol: 1e-5, atol: 1e-5, "add, groups \(groups)")
            expectClose(Torch.inferenceMode { conv(x, adding: other, activation: .relu) }, plainRelu, rtol: 1e-5, atol: 1e-5, "add+relu")
            conv.packForInference(outputScale: scale)
            #expect(conv.packed?.outputScale === scale)
            let residual = other.clone()
            let got = Torch.inferenceMode { conv(x, scaledBy: scale, accumulatingInto: residual) }
            expectClose(got, plainScaled, rtol: 1e-5, atol: 1e-5, "scaled")
            if groups == 1 { expectClose(residual, plainScaled, rtol: 1e-5, atol: 1e-5, "written into the residual") }
        }
    }

    @Test("a BatchNorm before a 1x1 conv folds into it")
    func inputBatchNorm() throws {
        Torch.manualSeed(3)
        let bn = Self.randomBatchNorm(12)
        let conv = Conv2d(12, 20, kernel: 1).eval()
        let x = Tensor.randn([2, 12, 7, 7]).contiguous(memoryFormat: .channelsLast)
        let want = Torch.inferenceMode { F.gelu(conv(bn(x))) }
        conv.packForInference(inputBatchNorm: bn)
        expectClose(Torch.inferenceMode { conv(x, activation: .gelu) }, want, rtol: 1e-5, atol: 1e-5, "input BN")
    }

    @Test("Linear packed: activation and addition fused, any leading shape")
    func linear() throws {
        Torch.manualSeed(4)
        let layer = Linear(24, 40).eval()
        let x = Tensor.randn([2, 37, 24]), other = Tensor.randn([2, 37, 40])
        let plain = Torch.inferenceMode { layer(x) }, plainGelu = Torch.inferenceMode { F.gelu(layer(x)) }
        layer.packForInference()
        expectClose(Torch.inferenceMode { layer(x) }, plain, rtol: 1e-5, atol: 1e-5, "linear")
        expectClose(Torch.inferenceMode { layer(x, activation: .gelu) }, plainGelu, rtol: 1e-5, atol: 1e-5, "linear+gelu")
        expectClose(Torch.inferenceMode { layer(x, adding: other) }, plain + other, rtol: 1e-5, atol: 1e-5, "linear+add")
        expectClose(Torch.inferenceMode { layer(x.view([74, 24])) }, plain.view([74, 40]), rtol: 1e-5, atol: 1e-5, "2-D")
    }

    @Test("optimizeForInference on a PyTorch-checked model still gives PyTorch's output; train() undoes it")
    func pytorchModel() throws {
        let f = try PyTorchFixture("modules")
        let m = ModuleTests.Model()
        var dict: [String: Tensor] = [:]
        for (key, t) in f.tensors where key.hasPrefix("state.") { dict[String(key.dropFirst(6))] = t }
        try m.load(stateDict: dict)
        let keys = m.stateDict().map(\.0)
        #expect(m.optimizeForInference())
        #expect(m.isOptimizedForInference && m.stem.layers[0] is Conv2d && (m.stem.layers[0] as! Conv2d).packed != nil)
        let y = Torch.inferenceMode { m(try! f["input"]) }
        expectClose(y, try f["output"], rtol: 1e-4, atol: 1e-5, "optimized forward")
        #expect(m.stateDict().map(\.0) == keys)
        m.train()
        #expect(!m.isOptimizedForInference)
        m.eval()
        expectClose(Torch.noGrad { m(try! f["input"]) }, try f["output"], rtol: 1e-5, atol: 1e-6, "plain again")
        m.optimizeForInference()
        try m.load(stateDict: dict)
        #expect(!m.isOptimizedForInference, "loading weights drops the stale packed copies")
    }

    @Test("no optimization for float64 weights: the plain forward stays")
    func unsupported() {
        let m = Sequential(Conv2d(3, 4, kernel: 3), BatchNorm2d(4), ReLU())
        m.to(device: .cpu, dtype: .float64)
        #expect(!m.optimizeForInference())
        #expect(!m.isOptimizedForInference)
    }
}

@Suite("CPUFeatures and the op profiler")
struct CPUFeaturesTests {
    @Test("flags from /proc/cpuinfo text: AVX2-only has no native bf16; AVX-512-BF16 and AMX have")
    func parse() {
        let avx2 = CPUFeatures(cpuinfo: "processor\t: 0\nflags\t\t: fpu sse avx avx2 fma\nbugs\t\t: none\n")
        #expect(avx2.hasAVX2 && !avx2.hasAVX512 && !avx2.hasNativeBFloat16)
        #expect(avx2.summary == "AVX2")
        #expect(avx2.bfloat16Note.contains("slower than float32"))
        let bf16 = CPUFeatures(cpuinfo: "flags\t: avx2 avx512f avx512_bf16 avx512_vnni\n")
        #expect(bf16.hasNativeBFloat16 && bf16.summary == "AVX-512 + BF16")
        let amx = CPUFeatures(cpuinfo: "flags\t: avx2 avx512f amx_bf16 amx_tile amx_int8\n")
        #expect(amx.hasAMX && amx.hasNativeBFloat16)
        #expect(CPUFeatures(cpuinfo: "").bfloat16Note.contains("unknown"))
    }

    @Test("the profiler sees each op of a forward pass, with calls and self time that add up")
    func profiler() throws {
        let conv = Conv2d(3, 8, kernel: 3, padding: 1).eval()
        let x = Tensor.randn([1, 3, 32, 32])
        let (_, profile) = try OpProfiler.record { Torch.inferenceMode { F.relu(conv(x)) + 1.0 } }
        let names = Set(profile.entries.map(\.name))
        #expect(names.contains("aten::conv2d") && names.contains("aten::relu") && names.contains("aten::add"))
        let top = profile.entries.reduce(0) { $0 + $1.topNanos }
        #expect(top <= profile.wallNanos && profile.outsideNanos >= 0)
        #expect(profile.entries.first { $0.name == "aten::relu" }?.calls == 1)
        #expect(profile.table().contains("aten::conv2d"))
        #expect(throws: TorchError.self) { try OpProfiler.record { try OpProfiler.record { 0 } } }
    }
}
