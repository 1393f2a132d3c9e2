import Foundation
import Testing
import TorchIO
@testable import Torch

/// `Torch.autocast`: scoping, nesting and restoring ATen's thread-local state, which ops run in lower
/// precision, and a bf16 mixed-precision training step against float32.
@Suite("Autocast")
struct AutocastTests {
    @Test("scoped, nestable, restores the previous state")
    func scoping() {
        #expect(!Torch.isAutocastEnabled(.cpu))
        let outer = Torch.autocastDType(.cpu)
        Torch.autocast(device: .cpu, dtype: .bfloat16) {
            #expect(Torch.isAutocastEnabled(.cpu) && Torch.autocastDType(.cpu) == .bfloat16)
            Torch.autocast(device: .cpu, dtype: .float16) {
                #expect(Torch.autocastDType(.cpu) == .float16)
                Torch.autocast(device: .cpu, enabled: false) { #expect(!Torch.isAutocastEnabled(.cpu)) }
                #expect(Torch.isAutocastEnabled(.cpu) && Torch.autocastDType(.cpu) == .float16)
            }
            #expect(Torch.autocastDType(.cpu) == .bfloat16)
            #expect(!Torch.isAutocastEnabled(.cuda(0)))  // per device type
        }
        #expect(!Torch.isAutocastEnabled(.cpu) && Torch.autocastDType(.cpu) == outer)
        // Restored also when the body throws.
        _ = try? Torch.autocast(device: .cpu) { throw TorchError("test", "thrown") }
        #expect(!Torch.isAutocastEnabled(.cpu))
    }

    @Test("eligible ops run in bf16, precision-sensitive ones in float32; float32 weights stay float32")
    func opPolicy() {
        let x = Tensor.randn([2, 3, 8, 8]), w = Tensor.randn([4, 3, 3, 3]), lw = Tensor.randn([5, 8])
        Torch.autocast(device: .cpu, dtype: .bfloat16) {
            let y = F.conv2d(x, weight: w, padding: (1, 1))
            #expect(y.dtype == .bfloat16)
            #expect(F.linear(y, weight: lw).dtype == .bfloat16)
            #expect(y.matmul(y.transpose(2, 3)).dtype == .bfloat16)
            // ATen's CPU fp32 list: losses run in float32 whatever their input.
            let logits = F.conv2d(x, weight: w, padding: (1, 1))
            #expect(F.crossEntropy(logits, Tensor.randint(0, 4, [2, 8, 8])).dtype == .float32)
        }
        #expect(w.dtype == .float32)
        #expect(F.conv2d(x, weight: w).dtype == .float32)  // off again
    }

    final class Net: Module {
        let stem = Conv2d(3, 16, kernel: 3, stride: 2, padding: 1, bias: false)  // before BatchNorm: a bias gradient would be pure rounding noise
        let norm = BatchNorm2d(16)
        let mix = Conv2d(16, 32, kernel: 3, padding: 1)
        let ln = LayerNorm(32, channelsFirst: true)
        let head = Conv2d(32, 5, kernel: 1)
        var seen: Set<DType> = []
        override init() {
            super.init()
            register(modules: ("stem", stem), ("norm", norm), ("mix", mix), ("ln", ln), ("head", head))
        }
        func loss(_ x: Tensor, _ labels: Tensor) -> Tensor {
            let h = F.gelu(norm(stem(x)))
            let m = mix(h)
            seen.insert(m.dtype)
            let logits = head(F.gelu(ln(m)))
            return F.crossEntropy(F.interpolate(logits, size: (x.size(2), x.size(3))), labels, ignoreIndex: 255)
        }
    }

    /// Relative L2 error of `a` against the reference `b`.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        (a.to(.float64) - b.to(.float64)).norm().item() / b.to(.float64).norm().item()
    }

    /// Tolerances (stated in docs/gpu.md): bf16 keeps 8 bits of mantissa (relative rounding 2^-9 = 0.2%), so
    /// sums over hundreds of terms land around 1%. Measured here: loss ~1e-3, gradients 0.5-1.5% (worst tensor).
    static let lossTolerance = 1e-2
    static let gradTolerance = 5e-2

    @Test("a bf16 autocast training step stays within the stated tolerance of float32; master weights stay float32")
    func trainingStep() throws {
        Torch.manualSeed(3)
        let fp32 = Net(), amp = Net()
        try amp.load(stateDict: Dictionary(uniqueKeysWithValues: fp32.stateDict()), strict: true)
        let x = Tensor.randn([4, 3, 32, 32]), labels = Tensor.randint(0, 5, [4, 32, 32])

        let reference = fp32.loss(x, labels)
        reference.backward()
        let mixed = Torch.autocast(device: .cpu, dtype: .bfloat16) { amp.loss(x, labels) }
        mixed.backward()

        #expect(amp.seen == [.bfloat16] && fp32.seen == [.float32])
        #expect(mixed.dtype == .float32)
        let lossError = Swift.abs(mixed.item() - reference.item()) / reference.item()
        #expect(lossError < Self.lossTolerance, "loss: \(mixed.item()) vs \(reference.item())")
        var worst = 0.0
        for ((name, p), (_, q)) in zip(amp.namedParameters(), fp32.namedParameters()) {
            #expect(p.dtype == .float32 && p.grad?.dtype == .float32, "\(name)")
            let e = Self.relativeError(p.grad!, q.grad!)
            worst = Swift.max(worst, e)
            #expect(e < Self.gradTolerance, "\(name): gradient relative error \(e)")
        }
        print("autocast bf16 vs fp32: loss relative error \(lossError), worst gradient relative error \(worst)")

        // One AdamW step from each: updates are +-lr where the gradients agree in sign.
        for net in [fp32, amp] { AdamW(model: net, lr: 1e-3, weightDecay: 0.01).step() }
        for ((name, p), (_, q)) in zip(amp.namedParameters(), fp32.namedParameters()) {
            let diff = (p - q).abs().max().item()
            #expect(diff <= 2e-3 + 1e-7, "\(name): parameters differ by \(diff) after one step")
        }
    }

    /// Timing of one training step (forward, loss, backward) in float32, bf16 autocast and bf16 weights on this
    /// CPU. Run with SWIFTSEG_MEASURE_AMP=1; prints the numbers, asserts nothing about speed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SWIFTSEG_MEASURE_AMP"] != nil, "set SWIFTSEG_MEASURE_AMP=1 to time"))
    func measureTrainingStep() throws {
        Torch.manualSeed(5)
        let x = Tensor.randn([4, 3, 128, 128]), labels = Tensor.randint(0, 5, [4, 128, 128])
        func time(_ label: String, _ body: () -> Void) -> Double {
            body()
            var best = Double.infinity
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            print(String(format: "%@: %.1f ms (best of 5)", label, best))
            return best
        }
        let net = Net(), half = Net()
        half.to(device: .cpu, dtype: .bfloat16)
        let fp32 = time("float32") { net.zeroGrad(); net.loss(x, labels).backward() }
        let amp = time("bf16 autocast") { net.zeroGrad(); Torch.autocast(device: .cpu) { net.loss(x, labels) }.backward() }
        let weights = time("bf16 weights") { half.zeroGrad(); half.loss(x.to(.bfloat16), labels).backward() }
        print(String(format: "ratios to float32: autocast %.2fx, bf16 weights %.2fx", amp / fp32, weights / fp32))
    }
}
