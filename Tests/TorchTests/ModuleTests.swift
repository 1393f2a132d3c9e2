import Foundation
import TorchIO
import Testing
@testable import Torch

/// Module structure, naming and initialisation, checked against a PyTorch model of the same shape
/// (Resources/pytorch/modules.safetensors: its state_dict, metadata with PyTorch's name lists, and an output).
@Suite("ModuleTests")
struct ModuleTests {
    /// PyTorch: scale (own parameter), norm = LayerNorm(4), mlp = Sequential(Linear(4, 8), GELU(), Linear(8, 4)).
    final class Block: Module {
        let scale = Tensor.ones([4])
        let norm = LayerNorm(4)
        let mlp = Sequential(Linear(4, 8), GELU(), Linear(8, 4))
        override init() {
            super.init()
            register(parameters: ("scale", scale))
            register(modules: ("norm", norm), ("mlp", mlp))
        }
        override func callAsFunction(_ x: Tensor) -> Tensor { x + mlp(norm(x)) * scale }
    }

    /// PyTorch: stem = Sequential(Conv2d(3, 4, 3, bias=False), BatchNorm2d(4), ReLU()), blocks = ModuleList of 2, head = Linear(4, 2).
    final class Model: Module {
        let stem = Sequential(Conv2d(3, 4, kernel: 3, bias: false), BatchNorm2d(4), ReLU())
        let blocks = ModuleList([Block(), Block()])
        let head = Linear(4, 2)
        override init() {
            super.init()
            register(modules: ("stem", stem), ("blocks", blocks), ("head", head))
        }
        override func callAsFunction(_ x: Tensor) -> Tensor {
            var h = stem(x).mean([2, 3])  // B,C,H,W -> B,C
            for block in blocks.items { h = block(h) }
            return head(h)
        }
    }

    func fixture() throws -> (PyTorchFixture, [String: String]) {
        let f = try PyTorchFixture("modules")
        let url = Bundle.module.url(forResource: "Resources", withExtension: nil)!
            .appendingPathComponent("pytorch/modules.safetensors")
        return (f, try SafeTensors.readMetadata(url))
    }

    @Test("names and order equal PyTorch's named_modules / named_parameters / state_dict")
    func namesMatchPyTorch() throws {
        let (_, meta) = try fixture()
        let m = Model()
        #expect(m.namedModules().map(\.0) == meta["named_modules"]!.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        #expect(m.namedParameters().map(\.0).joined(separator: ",") == meta["named_parameters"])
        #expect(m.stateDict().map(\.0).joined(separator: ",") == meta["state_dict"])
        #expect(m.parameterCount == Int(meta["parameter_count"]!))
        #expect(m.namedBuffers().map(\.0) == ["stem.1.running_mean", "stem.1.running_var", "stem.1.num_batches_tracked"])
        #expect(m.children.map(\.name) == ["stem", "blocks", "head"])
        #expect(m.blocks.children.map(\.name) == ["0", "1"])
        #expect(m.stem.children.map(\.name) == ["0", "1", "2"])
        #expect(m.namedParameters(prefix: "model").first?.0 == "model.stem.0.weight")
        #expect(m.namedParameters().allSatisfy { $0.1.requiresGrad })
        #expect(!m.stem.layers[1].namedBuffers().contains { $0.1.requiresGrad })
    }

    @Test("PyTorch's state_dict loads strictly and gives PyTorch's output")
    func loadsPyTorchWeights() throws {
        let (f, _) = try fixture()
        let m = Model()
        var dict: [String: Tensor] = [:]
        for (key, t) in f.tensors where key.hasPrefix("state.") { dict[String(key.dropFirst(6))] = t }
        let report = try m.load(stateDict: dict)
        #expect(report.isClean && report.loaded == m.stateDict().count)
        m.eval()
        let y = Torch.noGrad { m(try! f["input"]) }
        expectClose(y, try f["output"], rtol: 1e-5, atol: 1e-6, "eval forward")
    }

    @Test func trainEvalPropagates() {
        let m = Model()
        #expect(m.namedModules().allSatisfy { $0.1.isTraining })
        m.eval()
        #expect(m.namedModules().allSatisfy { !$0.1.isTraining })
        m.blocks.train()
        #expect(m.blocks[1].mlp.layers[0].isTraining && !m.isTraining && !m.stem.isTraining)
        m.train()
        #expect(m.namedModules().allSatisfy { $0.1.isTraining })
        // Dropout follows the mode.
        let seq = Sequential(Dropout(0.5))
        let x = Tensor.ones([1000])
        #expect(seq.eval()(x) === x)
        #expect((seq.train()(x) .== 0).to(.float32).sum().item() > 300)
    }

    @Test func parameterCounts() {
        #expect(Linear(3, 4).parameterCount == 16)
        #expect(Linear(3, 4, bias: false).parameterCount == 12)
        #expect(Conv2d(3, 8, kernel: 3).parameterCount == 8 * 3 * 9 + 8)
        #expect(Conv2d(8, 16, kernel: 3, groups: 4).parameterCount == 16 * 2 * 9 + 16)
        #expect(Conv2d.depthwise(8).parameterCount == 8 * 9 + 8)
        #expect(BatchNorm2d(8).parameterCount == 16)  // running statistics are buffers
        #expect(LayerNorm(5).parameterCount == 10)
        #expect(Sequential(Linear(3, 4), ReLU(), Linear(4, 2)).parameterCount == 16 + 10)
    }

    @Test("default init: Linear/Conv weights and biases uniform within 1/sqrt(fan_in)")
    func defaultInitRanges() {
        func check(_ weight: Tensor, _ bias: Tensor?, fanIn: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            let bound = 1 / Double(fanIn).squareRoot()
            #expect(Init.fanIn(weight) == fanIn, sourceLocation: sourceLocation)
            for t in [weight] + (bias.map { [$0] } ?? []) {
                let v = doubles(t), top = v.map(Swift.abs).max()!
                #expect(top <= bound, sourceLocation: sourceLocation)
                #expect(top > 0.8 * bound, "values fill the range", sourceLocation: sourceLocation)
            }
            // Uniform(-b, b) has standard deviation b / sqrt(3).
            let v = doubles(weight), mean = v.reduce(0, +) / Double(v.count)
            let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
            #expect(Swift.abs(std - bound / 3.0.squareRoot()) < 0.1 * bound, sourceLocation: sourceLocation)
        }
        let linear = Linear(100, 50)
        check(linear.weight, linear.bias, fanIn: 100)
        let conv = Conv2d(4, 64, kernel: 3)
        check(conv.weight, conv.bias, fanIn: 36)
        let grouped = Conv2d(16, 32, kernel: 3, groups: 4)
        check(grouped.weight, grouped.bias, fanIn: 4 * 9)
        // Norm layers start as the identity.
        let ln = LayerNorm(6)
        #expect(doubles(ln.weight).allSatisfy { $0 == 1 } && doubles(ln.bias).allSatisfy { $0 == 0 })
        let bn = BatchNorm2d(3)
        #expect(doubles(bn.runningVar) == [1, 1, 1] && doubles(bn.runningMean) == [0, 0, 0])
        #expect(bn.numBatchesTracked.dtype == .int64)
    }

    @Test("trunc_normal_ stays within [a, b] = [-2, 2] (absolute) with the right spread")
    func truncNormal() {
        let wide = Tensor.empty([20000])
        Init.truncNormal_(wide, std: 1)
        let v = doubles(wide)
        #expect(v.allSatisfy { $0 >= -2 && $0 <= 2 })
        #expect(v.contains { $0 > 1.8 } && v.contains { $0 < -1.8 })
        // A standard normal truncated at ±2 has standard deviation 0.8796.
        let std = (v.map { $0 * $0 }.reduce(0, +) / Double(v.count)).squareRoot()
        #expect(Swift.abs(std - 0.8796) < 0.02)
        let narrow = Tensor.empty([20000])
        Init.truncNormal_(narrow, std: 0.02)
        let n = doubles(narrow)
        let nstd = (n.map { $0 * $0 }.reduce(0, +) / Double(n.count)).squareRoot()
        #expect(Swift.abs(nstd - 0.02) < 0.001)
        #expect(n.allSatisfy { Swift.abs($0) < 0.2 })
    }

    @Test("to(device:dtype:) converts in place: same tensor objects, still trainable, integer buffers kept")
    func conversionKeepsIdentity() {
        let m = Model()
        let weight = m.head.weight
        m.to(device: .cpu, dtype: .float64)
        #expect(m.head.weight === weight)
        #expect(weight.dtype == .float64 && weight.requiresGrad)
        let bn = m.stem.layers[1] as! BatchNorm2d
        #expect(bn.runningMean.dtype == .float64 && bn.numBatchesTracked.dtype == .int64)
        let y = m(Tensor.randn([2, 3, 6, 6], dtype: .float64))
        #expect(y.dtype == .float64 && y.shape == [2, 2])
    }
}
