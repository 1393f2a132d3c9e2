import Foundation
import Testing
@testable import Torch

/// GradScaler against PyTorch's algorithm on a scripted sequence of finite and inf/NaN steps.
///
/// The expected numbers were worked out by hand from PyTorch's sources (pytorch/pytorch, read with the search
/// tools): torch/amp/grad_scaler.py (`scale`, `unscale_`, `step` skipping `optimizer.step()` when a found_inf flag
/// is set, `update` calling `_amp_update_scale_`, `state_dict`/`load_state_dict`) and the kernel
/// aten/src/ATen/native/cpu/AmpGradScalerKernels.cpp `_amp_update_scale_cpu_kernel`:
///     if found_inf: scale *= backoff_factor; tracker = 0
///     else: successful = tracker + 1
///           if successful == growth_interval: new = float(scale * growth_factor); if isfinite(new): scale = new; tracker = 0
///           else: tracker = successful
@Suite("GradScaler")
struct GradScalerTests {
    /// The gradient of each step (before scaling); `inf`/`nan` steps must be skipped.
    static let grads: [[Float]] = [
        [0.25, -1.5, 3], [1, 0.5, -0.25], [-2, 0.75, 1], [0.5, 0.5, 0.5],
        [1, .infinity, 0], [.nan, 1, 1],
        [0.125, -0.5, 2], [-1, 1, -1], [0.25, 0.25, -4],
        [-.infinity, 1, 1],
        [1.5, -0.5, 0.75],
    ]
    /// Hand-computed from the algorithm above with init_scale 2^16, growth_factor 2, backoff_factor 0.5,
    /// growth_interval 3: (scale, growth tracker) after each step's update().
    static let expected: [(scale: Double, tracker: Int)] = [
        (65536, 1), (65536, 2), (131072, 0), (131072, 1),
        (65536, 0), (32768, 0),
        (32768, 1), (32768, 2), (65536, 0),
        (32768, 0),
        (32768, 1),
    ]
    static let skipped: Set<Int> = [4, 5, 9]

    /// One scripted step: loss = sum(p * g), scaled, backward, scaler.step, update.
    func scriptedStep(_ k: Int, _ p: Tensor, _ opt: Optimizer, _ scaler: GradScaler) -> Bool? {
        opt.zeroGrad()
        let g = Tensor(Self.grads[k], shape: [3])
        scaler.scale((p * g).sum()).backward()
        let ran = scaler.step(opt)
        scaler.update()
        return ran
    }

    @Test("scale and growth tracker follow PyTorch's sequence; inf/NaN steps are skipped, others see unscaled gradients")
    func scriptedSequence() {
        let p = Tensor([1, 2, 3] as [Float]); p.requiresGrad = true
        let opt = SGD([p], lr: 0.5)
        let scaler = GradScaler(device: .cpu, growthInterval: 3)
        #expect(scaler.currentScale == 65536 && scaler.growthTracker == 0)
        var reference: [Float] = [1, 2, 3]
        for k in Self.grads.indices {
            let ran = scriptedStep(k, p, opt, scaler)
            #expect(ran == !Self.skipped.contains(k), "step \(k)")
            #expect(scaler.currentScale == Self.expected[k].scale, "step \(k): scale")
            #expect(scaler.growthTracker == Self.expected[k].tracker, "step \(k): growth tracker")
            if !Self.skipped.contains(k) { for i in 0..<3 { reference[i] -= 0.5 * Self.grads[k][i] } }
            // Scales are powers of two: scaling and unscaling are exact, so the trajectory equals unscaled SGD.
            #expect(p.toArray(Float.self) == reference, "step \(k): parameters")
        }
        #expect(scaler.stateDict() == ["scale": 32768, "growth_factor": 2, "backoff_factor": 0.5, "growth_interval": 3, "_growth_tracker": 1])
    }

    @Test("PyTorch's defaults; the scale never grows to inf")
    func defaultsAndGrowthCap() {
        let defaults = GradScaler(device: .cpu)
        #expect(defaults.currentScale == 65536 && defaults.growthFactor == 2 && defaults.backoffFactor == 0.5 && defaults.growthInterval == 2000)
        // 2^127 * 2 overflows float32: the kernel keeps 2^127 and still resets the tracker.
        let p = Tensor([1] as [Float]); p.requiresGrad = true
        let scaler = GradScaler(device: .cpu, initScale: 0x1p127, growthInterval: 1)
        let opt = SGD([p], lr: 1)
        opt.zeroGrad()
        scaler.scale((p * 0x1p-10).sum()).backward()
        #expect(scaler.step(opt) == true)
        scaler.update()
        #expect(scaler.currentScale == 0x1p127 && scaler.growthTracker == 0)
        #expect(p.item() == 1 - 0x1p-10)
    }

    @Test("state dict round trip continues the same sequence; an empty state is refused as PyTorch does")
    func stateRoundTrip() throws {
        let p = Tensor([1, 2, 3] as [Float]); p.requiresGrad = true
        let first = GradScaler(device: .cpu, growthInterval: 3)
        let opt = SGD([p], lr: 0.5)
        for k in 0..<4 { _ = scriptedStep(k, p, opt, first) }
        let saved = first.stateDict()
        #expect(saved["scale"] == 131072 && saved["_growth_tracker"] == 1)

        let second = GradScaler(device: .cpu)  // other settings: all come from the state
        try second.load(stateDict: saved)
        #expect(second.growthInterval == 3 && second.currentScale == 131072 && second.growthTracker == 1)
        for k in 4..<Self.grads.count {
            _ = scriptedStep(k, p, opt, second)
            #expect(second.currentScale == Self.expected[k].scale && second.growthTracker == Self.expected[k].tracker, "step \(k)")
        }
        let error = #expect(throws: TorchError.self) { try GradScaler(device: .cpu).load(stateDict: [:]) }
        #expect(error?.message.contains("saved from a disabled instance of GradScaler") == true)
        #expect(throws: TorchError.self) { try GradScaler(device: .cpu).load(stateDict: ["scale": 2]) }
    }

    @Test("a disabled scaler changes nothing and has an empty state")
    func disabled() throws {
        let p = Tensor([1] as [Float]); p.requiresGrad = true
        let scaler = GradScaler(device: .cpu, enabled: false)
        let loss = (p * 2).sum()
        #expect(scaler.scale(loss) === loss)
        loss.backward()
        #expect(scaler.step(SGD([p], lr: 1)) == true)
        scaler.update()
        #expect(p.item() == -1 && scaler.currentScale == 1 && scaler.stateDict().isEmpty)
        try scaler.load(stateDict: [:])  // a no-op, as PyTorch
    }

    @Test("unscale before clipping: the gradients are divided by the scale once")
    func unscaleThenClip() {
        let p = Tensor([0, 0] as [Float]); p.requiresGrad = true
        let opt = SGD([p], lr: 1)
        let scaler = GradScaler(device: .cpu)
        scaler.scale((p * Tensor([3, 4] as [Float])).sum()).backward()
        #expect(p.grad!.toArray(Float.self) == [3 * 65536, 4 * 65536])
        scaler.unscale(opt)
        #expect(p.grad!.toArray(Float.self) == [3, 4])
        #expect(clipGradNorm([p], maxNorm: 1) == 5)
        scaler.step(opt)  // no second unscale
        scaler.update()
        #expect(Swift.abs(p.toArray(Float.self)[0] + 0.6) < 1e-6)
    }

    /// The same scripted sequence through AdamW and SGD (momentum) in every implementation: foreach equals the
    /// single-tensor run exactly; fused kernels unscale and skip on the device and stay within float rounding.
    @Test(arguments: [OptimizerImplementation.foreach, .fused])
    func implementationsWithScaler(_ implementation: OptimizerImplementation) {
        func run(_ impl: OptimizerImplementation, adam: Bool) -> ([Float], Double) {
            let p = Tensor([1, 2, 3] as [Float]); p.requiresGrad = true
            let opt: Optimizer = adam ? AdamW([p], lr: 0.1, weightDecay: 0.01, implementation: impl)
                                      : SGD([p], lr: 0.1, momentum: 0.9, dampening: 0.1, implementation: impl)
            let scaler = GradScaler(device: .cpu, growthInterval: 3)
            for k in Self.grads.indices { _ = scriptedStep(k, p, opt, scaler) }
            #expect(scaler.currentScale == Self.expected.last!.scale)
            let steps = opt.stateDict().tensors["state.0.step"]?.item() ?? -1
            return (p.toArray(Float.self), steps)
        }
        for adam in [true, false] {
            let (reference, referenceSteps) = run(.singleTensor, adam: adam)
            let (values, steps) = run(implementation, adam: adam)
            #expect(steps == referenceSteps, "step counts (skipped steps not counted)")
            if adam { #expect(steps == Double(Self.grads.count - Self.skipped.count)) }
            for i in 0..<3 {
                let tolerance: Float = implementation == .foreach ? 0 : 1e-6 * Swift.max(1, Swift.abs(reference[i]))
                #expect(Swift.abs(values[i] - reference[i]) <= tolerance, "\(adam ? "AdamW" : "SGD") \(implementation) [\(i)]: \(values[i]) vs \(reference[i])")
            }
        }
    }
}
