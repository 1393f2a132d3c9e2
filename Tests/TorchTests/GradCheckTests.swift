import Foundation
import Testing
@testable import Torch

/// Autograd against central finite differences in float64, and the autograd controls.
@Suite("GradCheck")
struct GradCheckTests {
    /// Random float64 leaf tensor that requires grad.
    func leaf(_ shape: [Int], scale: Double = 1) -> Tensor {
        let t = (Tensor.randn(shape, dtype: .float64) * scale).detach()
        t.requiresGrad = true
        return t
    }

    /// Compares autograd's gradient of the scalar `loss(inputs)` with central differences, element by element:
    /// (f(x + h) - f(x - h)) / 2h with h = 1e-6 has error ~h² f''' + ε|f|/h, far below the tolerance.
    func gradCheck(_ inputs: [Tensor], rtol: Double = 1e-6, atol: Double = 1e-8, _ what: String,
                   sourceLocation: SourceLocation = #_sourceLocation, _ loss: ([Tensor]) -> Tensor) throws {
        let analytic = try Tensor.gradients(of: [loss(inputs)], withRespectTo: inputs)
        let h = 1e-6
        var worst = 0.0
        for (j, input) in inputs.enumerated() {
            guard let grad = analytic[j] else {
                Issue.record("\(what): no gradient for input \(j)", sourceLocation: sourceLocation)
                continue
            }
            let a = doubles(grad), base = doubles(input)
            for i in base.indices {
                func f(_ delta: Double) -> Double {
                    var v = base
                    v[i] += delta
                    var args = inputs
                    args[j] = Tensor(v, shape: input.shape)
                    return Torch.noGrad { loss(args).item() }
                }
                let numeric = (f(h) - f(-h)) / (2 * h)
                let error = Swift.abs(numeric - a[i]) - (atol + rtol * Swift.abs(a[i]))
                worst = Swift.max(worst, error)
                if error > 0 {
                    Issue.record("\(what): input \(j) element \(i): autograd \(a[i]), finite difference \(numeric)",
                                 sourceLocation: sourceLocation)
                    return
                }
            }
        }
        #expect(worst <= 0, sourceLocation: sourceLocation)
    }

    @Test("the checker itself catches a wrong gradient")
    func checkerCatchesWrongGradients() throws {
        let x = leaf([4])
        // x.detach() * x has true derivative 2x, but autograd sees only the second factor: x.
        withKnownIssue {
            try gradCheck([x], "deliberately wrong") { t in (t[0].detach() * t[0]).sum() }
        }
    }

    /// A fixed random weighting, so that the loss's gradient is not the same for every output element.
    func weighted(_ out: Tensor, _ weights: Tensor) -> Tensor { (out * weights).sum() }

    @Test func conv2dWithGroups() throws {
        let x = leaf([1, 4, 5, 5]), w = leaf([4, 2, 3, 3]), b = leaf([4])
        let r = Tensor.randn([1, 4, 3, 3], dtype: .float64)
        try gradCheck([x, w, b], "conv2d") { t in
            weighted(F.conv2d(t[0], weight: t[1], bias: t[2], stride: (2, 2), padding: (1, 1), groups: 2), r)
        }
    }

    @Test func linear() throws {
        let x = leaf([3, 4]), w = leaf([5, 4]), b = leaf([5])
        let r = Tensor.randn([3, 5], dtype: .float64)
        try gradCheck([x, w, b], "linear") { t in weighted(F.linear(t[0], weight: t[1], bias: t[2]), r) }
    }

    @Test func layerNorm() throws {
        let x = leaf([2, 3, 6]), w = leaf([6]), b = leaf([6])
        let r = Tensor.randn([2, 3, 6], dtype: .float64)
        try gradCheck([x, w, b], "layer_norm") { t in
            weighted(F.layerNorm(t[0], shape: [6], weight: t[1], bias: t[2]), r)
        }
    }

    @Test("batch_norm in training mode (batch statistics)")
    func batchNormTraining() throws {
        let x = leaf([3, 2, 3, 3]), w = leaf([2]), b = leaf([2])
        let r = Tensor.randn([3, 2, 3, 3], dtype: .float64)
        try gradCheck([x, w, b], "batch_norm") { t in
            weighted(F.batchNorm(t[0], runningMean: nil, runningVar: nil, weight: t[1], bias: t[2], training: true), r)
        }
    }

    @Test func bilinearInterpolation() throws {
        let x = leaf([1, 2, 3, 4])
        let r1 = Tensor.randn([1, 2, 7, 5], dtype: .float64), r2 = Tensor.randn([1, 2, 2, 3], dtype: .float64)
        try gradCheck([x], "bilinear up") { t in weighted(F.interpolate(t[0], size: (7, 5)), r1) }
        try gradCheck([x], "bilinear align_corners") { t in
            weighted(F.interpolate(t[0], size: (7, 5), mode: .bilinear(alignCorners: true)), r1)
        }
        try gradCheck([x], "bilinear down") { t in weighted(F.interpolate(t[0], size: (2, 3)), r2) }
    }

    @Test func adaptivePooling() throws {
        let x = leaf([1, 2, 5, 4])
        let r1 = Tensor.randn([1, 2, 3, 2], dtype: .float64), r2 = Tensor.randn([1, 2, 7, 6], dtype: .float64)
        try gradCheck([x], "adaptive_avg_pool2d") { t in weighted(F.adaptiveAvgPool2d(t[0], (3, 2)), r1) }
        try gradCheck([x], "adaptive_avg_pool2d to a larger size") { t in weighted(F.adaptiveAvgPool2d(t[0], (7, 6)), r2) }
    }

    @Test func softmax() throws {
        let x = leaf([3, 5])
        let r = Tensor.randn([3, 5], dtype: .float64)
        try gradCheck([x], "softmax") { t in weighted(F.softmax(t[0], dim: 1), r) }
        try gradCheck([x], "log_softmax") { t in weighted(F.logSoftmax(t[0], dim: 0), r) }
    }

    @Test("cross_entropy with ignored pixels and class weights")
    func crossEntropyIgnoringPixels() throws {
        let logits = leaf([2, 4, 3, 3])
        let target = Tensor.randint(0, 4, [2, 3, 3])
            .maskedFill(Tensor([true, false, false, false, true, false, false, false, false,
                                false, false, true, false, false, false, true, true, false], shape: [2, 3, 3]), 255)
        let weight = Tensor([1, 0.5, 2, 1.5] as [Double])
        try gradCheck([logits], "cross_entropy") { t in F.crossEntropy(t[0], target, ignoreIndex: 255) }
        try gradCheck([logits], "weighted cross_entropy") { t in F.crossEntropy(t[0], target, weight: weight, ignoreIndex: 255) }
        // Ignored pixels get no gradient at all.
        let g = try Tensor.gradients(of: [F.crossEntropy(logits, target, ignoreIndex: 255)], withRespectTo: [logits])[0]!
        let ignoredMask = (target .== 255).unsqueeze(1).expand([2, 4, 3, 3])
        #expect(doubles(g.maskedFill(ignoredMask.logicalNot(), 0)).allSatisfy { $0 == 0 })
        #expect(doubles(g.abs().sum()).first! > 0)
    }

    // MARK: autograd controls

    @Test func gradientsOfAndHigherOrder() throws {
        let x = Tensor([1, -2, 3] as [Double])
        x.requiresGrad = true
        let y = x.pow(3).sum()
        let first = try Tensor.gradients(of: [y], withRespectTo: [x], createGraph: true)[0]!
        expectValues(first, [3, 12, 27])  // 3x²
        let second = try Tensor.gradients(of: [first.sum()], withRespectTo: [x])[0]!
        expectValues(second, [6, -12, 18])  // 6x
        // An input the output does not depend on gets nil; one multiplied by zero gets zeros.
        let unused = Tensor([1] as [Double]), zeroed = Tensor([5] as [Double])
        unused.requiresGrad = true
        zeroed.requiresGrad = true
        let grads = try Tensor.gradients(of: [(x * 2).sum() + zeroed.sum() * 0], withRespectTo: [x, unused, zeroed])
        expectValues(grads[0]!, [2, 2, 2])
        #expect(grads[1] == nil)
        expectValues(grads[2]!, [0])
        #expect(x.grad == nil)  // gradients(of:) does not accumulate into .grad
    }

    @Test func backwardAccumulatesAndZeroGradClears() {
        let x = Tensor([1, 2] as [Float])
        x.requiresGrad = true
        #expect(x.grad == nil)
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        expectValues(x.grad!, [2, 4])
        y.backward()
        expectValues(x.grad!, [4, 8])  // accumulated
        x.zeroGrad()
        #expect(x.grad == nil)
        let m = Linear(2, 1)
        m(Tensor.ones([3, 2])).sum().backward()
        #expect(m.weight.grad != nil && m.bias!.grad != nil)
        expectValues(m.bias!.grad!, [3])
        m.zeroGrad()
        #expect(m.weight.grad == nil && m.bias!.grad == nil)
    }

    @Test func noGradAndInferenceMode() {
        let x = Tensor([1, 2] as [Float])
        x.requiresGrad = true
        #expect(Torch.isGradEnabled)
        let inside = Torch.noGrad { () -> Tensor in
            #expect(!Torch.isGradEnabled)
            return x * 2
        }
        #expect(!inside.requiresGrad)
        #expect(Torch.isGradEnabled)  // restored
        // Restored even when the body throws.
        struct Boom: Error {}
        #expect(throws: Boom.self) { try Torch.noGrad { throw Boom() } }
        #expect(Torch.isGradEnabled)
        // Nesting keeps the outer setting.
        Torch.noGrad {
            Torch.noGrad {}
            #expect(!Torch.isGradEnabled)
        }
        let inferred = Torch.inferenceMode { () -> Tensor in
            #expect(!Torch.isGradEnabled)
            return x * 3
        }
        #expect(!inferred.requiresGrad)
        expectValues(inferred, [3, 6])
        #expect(Torch.isGradEnabled)
        #expect((x * 2).requiresGrad)
    }

    @Test func detachSharesStorageWithoutHistory() {
        let x = Tensor([1, 2] as [Float])
        x.requiresGrad = true
        let y = x * 2
        let d = y.detach()
        #expect(y.requiresGrad && !d.requiresGrad)
        d.fill_(7)  // same storage as y
        expectValues(y, [7, 7])
        // A loss built on a detached value does not reach x.
        let z = (d * x).sum()
        z.backward()
        expectValues(x.grad!, [7, 7])  // only the direct path through x
    }
}
