import Foundation
import Testing
@testable import Torch

/// The three optimizer implementations (single-tensor, foreach, fused) on a small model with real gradients:
/// parameter groups with mmengine multipliers (lr x10 on the head, no decay on norms), weight decay, gradient
/// clipping, BatchNorm in training mode, several steps.
@Suite("OptimizerImplementations")
struct OptimizerImplementationTests {
    final class Net: Module {
        let stem = Conv2d(3, 8, kernel: 3, stride: 2, padding: 1, bias: false)  // no bias before BatchNorm: its gradient would be rounding noise, which Adam amplifies
        let norm = BatchNorm2d(8)
        let block = Conv2d(8, 8, kernel: 3, padding: 1, groups: 2)
        let head = Conv2d(8, 4, kernel: 1)
        override init() {
            super.init()
            register(modules: ("stem", stem), ("norm", norm), ("block", block), ("head", head))
        }
        func loss(_ x: Tensor, _ labels: Tensor) -> Tensor {
            let h = F.gelu(norm(stem(x)))
            let logits = head(h + F.relu(block(h)))
            return F.crossEntropy(F.interpolate(logits, size: (x.size(2), x.size(3))), labels, ignoreIndex: 255)
        }
    }

    static let rules = ParamGroupRules(customKeys: ["head": ParamRule(lrMult: 10), "norm": ParamRule(decayMult: 0)])

    /// Models with identical weights; `steps` batches of fixed random data.
    static func models(_ n: Int) -> [Net] {
        Torch.manualSeed(7)
        let nets = (0..<n).map { _ in Net() }
        let source = Dictionary(uniqueKeysWithValues: nets[0].stateDict())
        for net in nets.dropFirst() { try! net.load(stateDict: source, strict: true) }
        return nets
    }

    static func batches(_ steps: Int) -> [(Tensor, Tensor)] {
        Torch.manualSeed(11)
        return (0..<steps).map { _ in (Tensor.randn([2, 3, 16, 16]) * 2, Tensor.randint(0, 4, [2, 16, 16])) }
    }

    /// Trains each net with its optimizer in lockstep and returns every net's parameters and buffers after each step.
    static func train(_ nets: [Net], _ optimizers: [Optimizer], foreachClip: [Bool], steps: Int) -> [[[Double]]] {
        var trace: [[[Double]]] = Array(repeating: [], count: nets.count)
        for (x, labels) in batches(steps) {
            for (i, net) in nets.enumerated() {
                optimizers[i].zeroGrad()
                net.loss(x, labels).backward()
                clipGradNorm(net.parameters, maxNorm: 0.5, foreach: foreachClip[i])
                optimizers[i].step()
                trace[i].append(net.stateDict().flatMap { doubles($0.1) })
            }
        }
        return trace
    }

    /// The largest element-wise difference.
    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    /// Tolerance for the fused kernels (absolute, on parameters and buffers of magnitude ~1): they round
    /// differently (float32 arithmetic in another order). Measured worst case over 5 steps: 1.2e-7 for AdamW
    /// (one float32 ulp at 1.0, in a BatchNorm statistic), 1.5e-8 for SGD.
    static let fusedTolerance = 1e-6

    @Test("AdamW: foreach is bit-identical to single-tensor over 5 steps; fused within 1e-6")
    func adamW() {
        let lr = 1e-2
        let nets = Self.models(3)
        let impls: [OptimizerImplementation] = [.singleTensor, .foreach, .fused]
        let opts = zip(nets, impls).map { AdamW(model: $0, lr: lr, weightDecay: 0.05, rules: Self.rules, implementation: $1) }
        #expect(opts[0].groups.map(\.lrMult) == [1, 1, 10] && opts[0].groups.map(\.decayMult) == [1, 0, 1])
        let trace = Self.train(nets, opts, foreachClip: [false, true, true], steps: 5)
        var worstFused = 0.0
        for step in 0..<5 {
            #expect(trace[1][step] == trace[0][step], "foreach step \(step)")
            let fused = Self.maxDifference(trace[2][step], trace[0][step])
            worstFused = Swift.max(worstFused, fused)
            #expect(fused < Self.fusedTolerance, "fused step \(step): \(fused)")
        }
        print("AdamW fused vs single-tensor over 5 steps: worst difference \(worstFused)")
        #expect(trace[0][4] != trace[0][0])  // it did train
        // The fused kernels keep the step count on the device; the state reads it back.
        #expect(opts[2].stateDict().tensors["state.0.step"]?.item() == 5)
        #expect(opts[1].stateDict().tensors.keys.sorted() == opts[0].stateDict().tensors.keys.sorted())
    }

    @Test("SGD with momentum, dampening and Nesterov: foreach bit-identical; fused within 1e-6")
    func sgd() {
        let lr = 0.05
        for nesterov in [false, true] {
            let nets = Self.models(3)
            let impls: [OptimizerImplementation] = [.singleTensor, .foreach, .fused]
            let opts = zip(nets, impls).map {
                SGD(model: $0, lr: lr, weightDecay: 1e-3, rules: Self.rules, momentum: 0.9, dampening: nesterov ? 0 : 0.1,
                    nesterov: nesterov, implementation: $1)
            }
            let trace = Self.train(nets, opts, foreachClip: [false, true, true], steps: 5)
            var worstFused = 0.0
            for step in 0..<5 {
                #expect(trace[1][step] == trace[0][step], "nesterov \(nesterov): foreach step \(step)")
                let fused = Self.maxDifference(trace[2][step], trace[0][step])
                worstFused = Swift.max(worstFused, fused)
                #expect(fused < Self.fusedTolerance, "nesterov \(nesterov): fused step \(step): \(fused)")
            }
            print("SGD (nesterov \(nesterov)) fused vs single-tensor over 5 steps: worst difference \(worstFused)")
        }
    }

    @Test("switching implementation between steps carries the state over")
    func switchingImplementations() {
        let nets = Self.models(2)
        let reference = AdamW(model: nets[0], lr: 1e-2, weightDecay: 0.05, rules: Self.rules)
        let switching = AdamW(model: nets[1], lr: 1e-2, weightDecay: 0.05, rules: Self.rules, implementation: .fused)
        var trace: [[[Double]]] = [[], []]
        for (k, (x, labels)) in Self.batches(4).enumerated() {
            switching.implementation = [.fused, .singleTensor, .foreach, .fused][k]
            for (i, (net, opt)) in [(nets[0], reference as Optimizer), (nets[1], switching)].enumerated() {
                opt.zeroGrad()
                net.loss(x, labels).backward()
                opt.step()
                trace[i].append(net.parameters.flatMap { doubles($0) })
            }
        }
        #expect(Self.maxDifference(trace[1][3], trace[0][3]) < Self.fusedTolerance)
        #expect(switching.stateDict().tensors["state.3.step"]?.item() == 4)
    }

    @Test("channels-last parameters: optimizer state follows their layout and the update equals the contiguous one")
    func channelsLast() {
        let nets = Self.models(2)
        nets[1].to(memoryFormat: .channelsLast)
        #expect(nets[1].stem.weight.isContiguous(memoryFormat: .channelsLast) && !nets[1].stem.weight.isContiguous)
        let opts = nets.map { AdamW(model: $0, lr: 1e-2, weightDecay: 0.05, implementation: .fused) }
        let trace = Self.train(nets, opts, foreachClip: [true, true], steps: 2)
        #expect(Self.maxDifference(trace[1][1], trace[0][1]) < Self.fusedTolerance)
        #expect(opts[1].state[ObjectIdentifier(nets[1].stem.weight)]!.expAvg.strides == nets[1].stem.weight.strides)
    }

    @Test func defaultChoice() {
        #expect(OptimizerImplementation.defaultChoice(for: [Tensor.zeros([2])]) == .singleTensor)
        #expect(OptimizerImplementation.defaultChoice(for: []) == .singleTensor)
    }
}
