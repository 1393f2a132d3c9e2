import Foundation
import Testing
@testable import Torch

/// Device-side API: memory formats, non-blocking copies, pinned memory, CUDA switches, memory figures and CUDA
/// graphs. On a machine without CUDA the CUDA entry points must throw `.device` errors (never crash); the tests
/// that need a GPU are enabled only where `Torch.cuda.isAvailable`.
@Suite("DeviceAPI")
struct DeviceAPITests {
    static var cuda: Bool { Torch.cuda.isAvailable }

    @Test("channels-last conversion keeps values and NCHW sizes, with NHWC strides")
    func channelsLast() {
        let x = Tensor.arange(0, 2 * 3 * 4 * 5, dtype: .float32).reshape(2, 3, 4, 5)
        let y = x.contiguous(memoryFormat: .channelsLast)
        #expect(y.shape == [2, 3, 4, 5] && y.strides == [60, 1, 15, 3])
        #expect(y.isContiguous(memoryFormat: .channelsLast) && !y.isContiguous)
        #expect(doubles(y) == doubles(x))
        #expect(y.contiguous(memoryFormat: .channelsLast) === y)
        // A channels-last model gives the same output as the contiguous one.
        Torch.manualSeed(1)
        let conv = Conv2d(3, 6, kernel: 3, padding: 1)
        let reference = conv(x)
        conv.to(memoryFormat: .channelsLast)
        #expect(conv.weight.isContiguous(memoryFormat: .channelsLast) && conv.weight.requiresGrad)
        expectClose(conv(y), reference, rtol: 1e-5, atol: 1e-5, "channels-last conv")
    }

    @Test("non-blocking and pinned copies on a machine without CUDA")
    func copies() throws {
        let x = Tensor([1, 2, 3] as [Float])
        #expect(x.to(.cpu, nonBlocking: true) === x)
        #expect(try x.checked.to(device: .cpu, copy: true, nonBlocking: true).toArray(Float.self) == [1, 2, 3])
        #expect(!x.isPinned)
        if Self.cuda {
            let pinned = try x.checked.pinMemory()
            #expect(pinned.isPinned)
            let onDevice = pinned.to(.cuda(0), nonBlocking: true)
            #expect(onDevice.toArray(Float.self) == [1, 2, 3])  // reading back waits for the copy
        } else {
            #expect((#expect(throws: TorchError.self) { _ = try x.checked.pinMemory() })?.kind == .device)
        }
    }

    @Test("cuDNN benchmark and TF32 switches round-trip")
    func switches() {
        let (benchmark, tf32) = (Torch.cudnnBenchmark, Torch.tf32)
        defer { Torch.cudnnBenchmark = benchmark; Torch.tf32 = tf32 }
        Torch.cudnnBenchmark = true
        #expect(Torch.cudnnBenchmark)
        Torch.tf32 = Torch.TF32(matmul: true, conv: false)
        #expect(Torch.tf32 == Torch.TF32(matmul: true, conv: false))
        Torch.tf32 = Torch.TF32(matmul: false, conv: false)
        #expect(Torch.tf32 == Torch.TF32(matmul: false, conv: false))
    }

    @Test("without CUDA: graphs, memory figures and the cache say so with .device errors", .enabled(if: !DeviceAPITests.cuda))
    func withoutCUDA() {
        for device in [Device.cpu, .cuda(0)] {
            let e = #expect(throws: TorchError.self) { _ = try CUDAGraph(device: device) }
            #expect(e?.kind == .device, "\(e?.message ?? "")")
        }
        #expect((#expect(throws: TorchError.self) { _ = try GraphedFunction(example: Tensor.zeros([1])) { $0 } })?.kind == .device)
        #expect((#expect(throws: TorchError.self) { try Torch.cuda.emptyCache() })?.kind == .device)
        #expect((#expect(throws: TorchError.self) { try Torch.cuda.resetPeakMemory(device: 0) })?.kind == .device)
        let m = #expect(throws: TorchError.self) { _ = try Torch.cuda.memory(device: 0) }
        #expect(m?.message.contains("CUDA is unavailable") == true)
    }

    // MARK: with a GPU (skipped here)

    @Test("CUDA graph replay equals eager execution for new inputs", .enabled(if: DeviceAPITests.cuda))
    func graphReplay() throws {
        Torch.manualSeed(2)
        let net = Sequential(Conv2d(3, 8, kernel: 3, padding: 1), GELU(), Conv2d(8, 4, kernel: 1)).eval().to(device: .cuda(0))
        let example = Tensor.randn([2, 3, 32, 32], device: .cuda(0))
        let graphed = try GraphedFunction(example: example) { net($0) }
        for _ in 0..<3 {
            let x = Tensor.randn([2, 3, 32, 32], device: .cuda(0))
            let eager = Torch.inferenceMode { net(x) }
            expectClose(try graphed(x).clone(), eager, rtol: 1e-5, atol: 1e-5, "graph replay")
        }
        #expect((#expect(throws: TorchError.self) { _ = try graphed(Tensor.zeros([1, 3, 32, 32], device: .cuda(0))) })?.kind == .value)
    }

    @Test("CUDA memory figures: peaks follow allocations and reset", .enabled(if: DeviceAPITests.cuda))
    func cudaMemory() throws {
        try Torch.cuda.resetPeakMemory(device: 0)
        let before = try Torch.cuda.memory(device: 0)
        var big: Tensor? = Tensor.zeros([64 << 20], device: .cuda(0))  // 256 MiB
        let during = try Torch.cuda.memory(device: 0)
        #expect(during.allocated >= before.allocated + (256 << 20))
        #expect(during.peakAllocated >= during.allocated && during.reserved >= during.allocated)
        big = nil
        _ = big
        try Torch.cuda.resetPeakMemory(device: 0)
        #expect(try Torch.cuda.memory(device: 0).peakAllocated < during.peakAllocated)
        try Torch.cuda.emptyCache()
    }

    @Test("a CUDA out-of-memory error is thrown with the allocator's figures", .enabled(if: DeviceAPITests.cuda))
    func cudaOutOfMemory() {
        let e = #expect(throws: TorchError.self) {
            try Torch.catchingOutOfMemory { _ = Tensor.empty([1 << 46], device: .cuda(0)).sum() }
        }
        #expect(e?.kind == .outOfMemory)
        #expect(e?.message.contains("Allocator: cuda:0") == true, "\(e?.message ?? "")")
        #expect(Tensor.ones([4], device: .cuda(0)).sum().item() == 4)
    }

    @Test("bf16 autocast on CUDA and fused AdamW on CUDA", .enabled(if: DeviceAPITests.cuda))
    func cudaMixedPrecision() {
        let x = Tensor.randn([4, 8], device: .cuda(0)), w = Tensor.randn([3, 8], device: .cuda(0))
        Torch.autocast(device: .cuda(0), dtype: .bfloat16) { #expect(F.linear(x, weight: w).dtype == .bfloat16) }
        let p = Tensor.randn([1000], device: .cuda(0)), q = p.clone()
        for t in [p, q] { t.requiresGrad = true }
        let a = AdamW([p], lr: 1e-2, implementation: .foreach), b = AdamW([q], lr: 1e-2, implementation: .fused)
        for _ in 0..<3 {
            for (t, o) in [(p, a as Optimizer), (q, b)] { o.zeroGrad(); (t * t).sum().backward(); o.step() }
        }
        expectClose(q, p, rtol: 1e-5, atol: 1e-6, "fused vs foreach on CUDA")
    }
}
