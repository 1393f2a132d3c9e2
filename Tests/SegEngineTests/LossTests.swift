import Foundation
import Testing
import SegModels
import Torch
@testable import SegEngine

/// `segmentationLoss` against cross-entropy computed by hand on a few pixels.
@Suite("Loss")
struct LossTests {
    // One image, 3 classes, 2x3 pixels; two pixels are ignored (255).
    static let logits: [Float] = [
        // class 0
        2.0, 0.5, -1.0,
        0.0, 1.0, 3.0,
        // class 1
        0.5, 0.5, 2.0,
        1.0, -2.0, 0.0,
        // class 2
        -1.0, 1.5, 0.0,
        0.0, 0.5, 1.0,
    ]
    static let labels: [Int64] = [0, 2, 255,
                                  1, 255, 0]

    /// -log softmax(logits at pixel p)[label p] for every non-ignored pixel.
    static func pixelLosses() -> [Double] {
        var out: [Double] = []
        for p in 0..<6 where labels[p] != 255 {
            let scores = (0..<3).map { Double(logits[$0 * 6 + p]) }
            let logSum = Foundation.log(scores.map { Foundation.exp($0) }.reduce(0, +))
            out.append(logSum - scores[Int(labels[p])])
        }
        return out
    }

    static func loss(avgNonIgnore: Bool) -> Double {
        segmentationLoss(logits: Tensor(logits, shape: [1, 3, 2, 3]), labels: Tensor(labels, shape: [1, 2, 3]),
                         avgNonIgnore: avgNonIgnore).item()
    }

    @Test("avgNonIgnore false: summed loss over ALL pixels (mmseg's default)")
    func sumOverAllPixels() {
        let expected = Self.pixelLosses().reduce(0, +) / 6
        #expect(abs(Self.loss(avgNonIgnore: false) - expected) < 1e-6)
    }

    @Test("avgNonIgnore true: mean over the valid pixels")
    func meanOverValidPixels() {
        let losses = Self.pixelLosses()
        #expect(losses.count == 4)
        let expected = losses.reduce(0, +) / 4
        #expect(abs(Self.loss(avgNonIgnore: true) - expected) < 1e-6)
        // The two normalisations really differ here (6 pixels vs 4).
        #expect(abs(Self.loss(avgNonIgnore: true) - Self.loss(avgNonIgnore: false)) > 0.1)
    }

    @Test("Logits at a lower resolution are upsampled to the labels")
    func upsampledLogits() {
        // A 1x1 logit map upsamples to a constant, so every pixel has the same loss.
        let logits = Tensor([Float(1), 0, -1], shape: [1, 3, 1, 1])
        let labels = Tensor([Int64(0), 1, 2, 255], shape: [1, 2, 2])
        let logSum = Foundation.log(Foundation.exp(1.0) + 1 + Foundation.exp(-1.0))
        let perClass = [logSum - 1, logSum, logSum + 1]
        let sum = perClass.reduce(0, +)
        #expect(abs(segmentationLoss(logits: logits, labels: labels).item() - sum / 4) < 1e-6)
        #expect(abs(segmentationLoss(logits: logits, labels: labels, avgNonIgnore: true).item() - sum / 3) < 1e-6)
    }

    @Test("A batch with every pixel ignored gives 0, not NaN, with either normalisation (as mmseg)")
    func allIgnored() {
        let logits = Tensor([Float](repeating: 0.5, count: 12), shape: [1, 3, 2, 2])
        let labels = Tensor([Int64](repeating: 255, count: 4), shape: [1, 2, 2])
        #expect(segmentationLoss(logits: logits, labels: labels).item() == 0)
        #expect(segmentationLoss(logits: logits, labels: labels, avgNonIgnore: true).item() == 0)
    }

    @Test("Gradient: (softmax - onehot) / pixels on valid pixels, 0 on ignored ones, by hand")
    func gradientByHand() throws {
        let logits = Tensor(Self.logits, shape: [1, 3, 2, 3])
        logits.requiresGrad = true
        segmentationLoss(logits: logits, labels: Tensor(Self.labels, shape: [1, 2, 3])).backward()
        let grad = try #require(logits.grad).toArray(Float.self)
        for p in 0..<6 {
            let scores = (0..<3).map { Double(Self.logits[$0 * 6 + p]) }
            let total = scores.map { Foundation.exp($0) }.reduce(0, +)
            for c in 0..<3 {
                let expected = Self.labels[p] == 255 ? 0 : (Foundation.exp(scores[c]) / total - (Int(Self.labels[p]) == c ? 1 : 0)) / 6
                #expect(abs(Double(grad[c * 6 + p]) - expected) < 1e-6, "class \(c) pixel \(p)")
            }
        }
    }

    /// The loss `f` gives on a fresh leaf copy of `base`, and that copy's gradient.
    static func lossAndGrad(_ base: Tensor, _ f: (Tensor) -> Tensor) throws -> (Double, Tensor) {
        let x = base.clone()
        x.requiresGrad = true
        let loss = f(x)
        loss.backward()
        return (loss.item(), try #require(x.grad))
    }

    @Test("pixelCrossEntropySum equals ATen's cross_entropy (sum) in value and gradient", arguments: [false, true])
    func matchesATen(float64: Bool) throws {
        let dtype = float64 ? Double.dtype : Float.dtype
        Torch.manualSeed(7)
        let base = (Tensor.randn([500, 19]) * 3).to(dtype)
        var target = Tensor.randint(0, 19, [500])
        target = target.maskedFill(Tensor.rand([500]) .< 0.2, 255)
        let (ours, oursGrad) = try Self.lossAndGrad(base) { F.pixelCrossEntropySum($0, target, ignoreIndex: 255) }
        let (aten, atenGrad) = try Self.lossAndGrad(base) { F.crossEntropy($0, target, ignoreIndex: 255, reduction: .sum) }
        let tolerance = float64 ? 1e-12 : 1e-5
        #expect(abs(ours - aten) <= tolerance * abs(aten))
        #expect(oursGrad.dtype == dtype)
        #expect((oursGrad - atenGrad).abs().max().item() <= tolerance)
        #expect((atenGrad.abs().sum(dim: 1) .== 0).sum().itemInt() == (target .== 255).sum().itemInt())
    }

    /// (input logits size, label size): upsampling by a non-integer factor (many row blocks), the same size, and
    /// downsampling; classes 19 (AVX2 vectors + a tail) and 150 (ADE20K).
    static let resizeCases: [(h: Int, w: Int, H: Int, W: Int, classes: Int)] = [
        (7, 9, 61, 37, 19), (6, 5, 6, 5, 19), (12, 10, 5, 7, 19), (8, 8, 32, 32, 150),
    ]

    @Test("The fused CPU loss equals ATen's interpolate + cross_entropy (sum) in value and gradient",
          arguments: [false, true], 0..<4)
    func fusedUpsampledLossMatchesATen(float64: Bool, caseIndex: Int) throws {
        let c = Self.resizeCases[caseIndex]
        let dtype = float64 ? Double.dtype : Float.dtype
        Torch.manualSeed(11)
        let base = (Tensor.randn([2, c.classes, c.h, c.w]) * 3).to(dtype)
        var labels = Tensor.randint(0, c.classes, [2, c.H, c.W])
        labels = labels.maskedFill(Tensor.rand([2, c.H, c.W]) .< 0.2, 255)
        let (fused, fusedGrad) = try Self.lossAndGrad(base) { F.upsampledPixelCrossEntropySum($0, labels, ignoreIndex: 255) }
        let (aten, atenGrad) = try Self.lossAndGrad(base) {
            F.crossEntropy(F.interpolate($0, size: (c.H, c.W)), labels, ignoreIndex: 255, reduction: .sum)
        }
        let tolerance = float64 ? 1e-12 : 2e-6
        #expect(abs(fused - aten) <= tolerance * abs(aten))
        #expect(fusedGrad.dtype == dtype && fusedGrad.shape == base.shape)
        let scale = atenGrad.abs().max().item()
        #expect((fusedGrad - atenGrad).abs().max().item() <= tolerance * 10 * scale)
    }

    @Test("The fused loss gives bit-identical values and gradients on 1 and 2 threads (fixed summation order)")
    func fusedLossThreadIndependent() throws {
        Torch.manualSeed(5)
        let base = Tensor.randn([2, 19, 9, 11])
        let labels = Tensor.randint(0, 19, [2, 70, 83])
        func run(threads: Int) throws -> (Double, [Float]) {
            let saved = Torch.threads
            Torch.threads = threads
            defer { Torch.threads = saved }
            let x = base.clone()
            x.requiresGrad = true
            let loss = F.upsampledPixelCrossEntropySum(x, labels, ignoreIndex: 255)
            loss.backward()
            return (loss.item(), try #require(x.grad).contiguous().toArray(Float.self))
        }
        let (one, oneGrad) = try run(threads: 1), (two, twoGrad) = try run(threads: 2)
        #expect(one == two)
        #expect(oneGrad == twoGrad)
    }

    @Test("The fused loss with bfloat16 logits computes in float32 and returns a bfloat16 gradient")
    func fusedLossReducedPrecision() throws {
        Torch.manualSeed(3)
        let x32 = Tensor.randn([1, 19, 5, 6])
        let labels = Tensor.randint(0, 19, [1, 20, 24])
        let x16 = x32.to(.bfloat16)
        x16.requiresGrad = true
        let loss = F.upsampledPixelCrossEntropySum(x16, labels, ignoreIndex: 255)
        loss.backward()
        let reference = F.upsampledPixelCrossEntropySum(x16.detach().to(.float32), labels, ignoreIndex: 255).item()
        #expect(loss.dtype == .float32)
        #expect(abs(loss.item() - reference) <= 1e-6 * abs(reference))
        #expect(try #require(x16.grad).dtype == .bfloat16)
    }

    @Test("NaN logits give a NaN loss through the fused kernel (the trainer's NaN guard must see it)")
    func fusedLossPropagatesNaN() {
        var values = (0..<(19 * 16)).map { Float($0 % 7) * 0.1 }
        values[17 * 16 + 9] = .nan  // class 17 (the AVX2 tail), one source pixel
        let logits = Tensor(values, shape: [1, 19, 4, 4])
        let labels = Tensor.zeros([1, 16, 16], dtype: .int64)
        #expect(F.upsampledPixelCrossEntropySum(logits, labels, ignoreIndex: 255).item().isNaN)
    }

    @Test("The fused loss reports a label outside the classes, and labels that do not match the logits")
    func fusedLossErrors() {
        let logits = Tensor.randn([1, 3, 2, 2])
        let labels = Tensor([Int64(0), 2, 255, 3], shape: [1, 2, 2])
        do {
            _ = try Functional.Checked.upsampledPixelCrossEntropySum(logits, labels, ignoreIndex: 255)
            Issue.record("an out-of-range label was accepted")
        } catch {
            #expect("\(error)".contains("outside [0, 3)"))
        }
        #expect(throws: TorchError.self) {
            try Functional.Checked.upsampledPixelCrossEntropySum(logits, Tensor.zeros([2, 4, 4], dtype: .int64), ignoreIndex: 255)
        }
    }

    @Test("A label outside the classes that is not the ignore index is an error that says so")
    func labelOutOfRange() {
        let logits = Tensor.randn([4, 3])
        let target = Tensor([Int64(0), 2, 255, 3], shape: [4])
        #expect(throws: TorchError.self) { try Functional.Checked.pixelCrossEntropySum(logits, target, ignoreIndex: 255) }
        do {
            _ = try Functional.Checked.pixelCrossEntropySum(logits, target, ignoreIndex: 255)
        } catch {
            #expect("\(error)".contains("outside [0, 3)"))
        }
    }
}
