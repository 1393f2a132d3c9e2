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

    /// A layer registered under two parents, as AFFormer's shared position encodings are.
    final class SharedPair: Module {
        let shared = Linear(4, 4)
        let first: Sequential
        let second: Sequential
        override init() {
            first = Sequential(shared, ReLU())
            second = Sequential(Linear(4, 4), shared)
            super.init()
            register(modules: ("shared", shared), ("first", first), ("second", second))
        }
        override func callAsFunction(_ x: Tensor) -> Tensor { second(first(x)) }
    }

    @Test("a shared layer: every key in stateDict, each tensor once in namedParameters (first name wins)")
    func sharedLayerNames() {
        let m = SharedPair()
        #expect(m.stateDict().map(\.0) == ["shared.weight", "shared.bias", "first.0.weight", "first.0.bias",
                                           "second.0.weight", "second.0.bias", "second.1.weight", "second.1.bias"])
        // PyTorch's named_parameters: duplicates removed by identity, first name kept.
        #expect(m.namedParameters().map(\.0) == ["shared.weight", "shared.bias", "second.0.weight", "second.0.bias"])
        #expect(m.parameters.count == 4 && m.parameterCount == 2 * (16 + 4))
        #expect(m.sharedKeyGroups() == [["shared.weight", "first.0.weight", "second.1.weight"],
                                        ["shared.bias", "first.0.bias", "second.1.bias"]])
        let bn = BatchNorm2d(2)
        let buffers = Sequential(bn, bn)
        #expect(buffers.namedBuffers().map(\.0) == ["0.running_mean", "0.running_var", "0.num_batches_tracked"])
        #expect(Module().sharedKeyGroups().isEmpty && Model().sharedKeyGroups().isEmpty)

        // Gradients of both uses accumulate into the one tensor; an optimiser built on the model sees it once.
        m(Tensor.randn([3, 4])).sum().backward()
        #expect(m.shared.weight.grad != nil && m.namedParameters().allSatisfy { $0.1.grad != nil })
        let sgd = SGD(model: m, lr: 0.1, weightDecay: 0)
        #expect(sgd.groups.flatMap(\.params).count == 4)
    }

    @Test("loading a shared layer: every alias key read and checked; disagreeing values throw naming the keys")
    func sharedLayerLoading() throws {
        let source = SharedPair()
        let dict = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.0, $0.1.clone()) })
        let m = SharedPair()
        let report = try m.load(stateDict: dict)
        #expect(report.isClean && report.loaded == 8)
        expectClose(m.shared.weight, source.shared.weight, rtol: 0, atol: 0, "shared weight loaded")
        #expect(m.first.layers[0] === m.shared)

        // The same values in another dtype agree once converted.
        var half = dict
        half["first.0.bias"] = dict["first.0.bias"]!.to(.float64)
        #expect(try m.load(stateDict: half).isClean)

        var bad = dict
        bad["second.1.weight"] = dict["shared.weight"]! + 1
        let before = m.shared.weight.clone()
        for strict in [true, false] {
            do {
                try m.load(stateDict: bad, strict: strict)
                Issue.record("disagreeing aliases loaded (strict: \(strict))")
            } catch let error as TorchError {
                #expect("\(error)".contains("shared.weight vs second.1.weight"), "\(error)")
                #expect(!"\(error)".contains("bias"))
            }
        }
        expectClose(m.shared.weight, before, rtol: 0, atol: 0, "nothing modified")

        // A missing alias key is missing (strict), as in PyTorch; a partial load still fills the tensor.
        var partial = dict
        partial["first.0.weight"] = nil
        #expect(throws: TorchError.self) { try m.load(stateDict: partial) }
        let r = try m.load(stateDict: partial, strict: false)
        #expect(r.missing == ["first.0.weight"] && r.loaded == 7)
    }

    @Test("GroupNorm layer: parameters weight and bias, the functional form's output")
    func groupNormLayer() {
        let gn = GroupNorm(groups: 2, channels: 6)
        #expect(gn.stateDict().map(\.0) == ["weight", "bias"] && gn.parameterCount == 12)
        let x = Tensor.randn([2, 6, 3, 5])
        expectClose(gn(x), F.groupNorm(x, groups: 2, weight: gn.weight, bias: gn.bias), rtol: 0, atol: 0, "group norm")
        // Each group has zero mean over its channels and pixels.
        let groupMeans = gn(x).reshape([2, 2, 45]).mean([2])
        #expect(groupMeans.abs().max().item() < 1e-5)
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
