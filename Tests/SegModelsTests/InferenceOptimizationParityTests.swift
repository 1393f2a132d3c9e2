import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// The models optimized for CPU inference (`optimizeForInference`: folded BatchNorm, oneDNN-packed weights, fused
/// activations, additions and layer scales) against the official outputs, and against their own plain forward.
@Suite("Optimized inference parity", .enabled(if: OneDNN.isAvailable, "libtorch without oneDNN"))
struct InferenceOptimizationParityTests {
    static func expectParity(_ out: [String: Tensor], _ expected: [String: Tensor], keys: [String], label: String) {
        for key in keys {
            let got = out[key]!, want = expected[key]!
            #expect(got.shape == want.shape, "\(label) \(key) shape")
            let err = Fixtures.relativeError(got, want)
            #expect(err < 1e-4, "\(label) \(key): relative error \(err)")
        }
    }

    @Test("LRFormer tiny, optimized: every stage and the logits within 1e-4 relative of the official outputs")
    func lrformerTiny() throws {
        let model = try LRFormerParityTests.tinyModel()
        #expect(model.optimizeForInference())
        #expect(model.isOptimizedForInference)
        let input = try Fixtures.tensors(Fixtures.resource("lrformer/parity-tiny/input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(Fixtures.resource("lrformer/parity-tiny/expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        Self.expectParity(out, expected, keys: ["stage1", "stage2", "stage3", "stage4", "logits"], label: "tiny")
        #expect(Fixtures.relativeError(Torch.inferenceMode { model.predictLogits(input) }, expected["logits_full"]!) < 1e-4)
    }

    @Test("LRFormer-T, optimized: stages and logits within 1e-4 relative (../shared/reference/lrformer/parity-t)",
          .enabled(if: Fixtures.reference("lrformer/parity-t") != nil, "needs ../shared/reference/lrformer/parity-t (or SWIFTSEG_REFERENCE)"))
    func lrformerT() throws {
        let ref = try #require(Fixtures.reference("lrformer/parity-t"))
        let model = LRFormerSegmentation(name: "lrformer-t", config: .t, numClasses: 150)
        try model.load(stateDict: SafeTensors.read(ref.appendingPathComponent("weights.safetensors")), strict: true)
        #expect(model.optimizeForInference())
        let input = try Fixtures.tensors(ref.appendingPathComponent("input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(ref.appendingPathComponent("expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        Self.expectParity(out, expected, keys: ["stage1", "stage2", "stage3", "stage4", "logits"], label: "T")
    }

    @Test("SegFormer-B0, optimized: hidden states and logits within 1e-4 relative (../shared/reference/segformer/parity-b0)",
          .enabled(if: SegFormerParityTests.fixture != nil, "needs ../shared/reference/segformer/parity-b0 (or SWIFTSEG_REFERENCE)"))
    func segformerB0() throws {
        let ref = try #require(SegFormerParityTests.fixture)
        let model = try ModelRegistry.segmentation("segformer-b0", numClasses: 150) as! SegFormerSegmentation
        try model.load(stateDict: SafeTensors.read(ref.appendingPathComponent("weights.safetensors")), strict: true)
        #expect(model.optimizeForInference())
        let input = try Fixtures.tensors(ref.appendingPathComponent("input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(ref.appendingPathComponent("expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        Self.expectParity(out, expected, keys: ["stage1", "stage2", "stage3", "stage4", "logits"], label: "B0")
    }

    /// Every BatchNorm with random statistics and affine, so that folding them is visible in the outputs.
    static func perturbBatchNorms(_ model: Module) {
        Torch.noGrad {
            for (_, m) in model.namedModules() {
                guard let bn = m as? BatchNorm2d else { continue }
                let c = bn.weight.count
                bn.weight.copy_(Tensor.rand([c]) + 0.5)
                bn.bias.copy_(Tensor.randn([c]) * 0.2)
                bn.runningMean.copy_(Tensor.randn([c]) * 0.2)
                bn.runningVar.copy_(Tensor.rand([c]) + 0.5)
            }
            // Layer scales of 1e-6 (the official init) would hide the branches they scale.
            for (key, t) in model.stateDict() where key.hasSuffix("layer_scale_1") || key.hasSuffix("layer_scale_2") || key.hasSuffix(".gamma") {
                t.copy_(Tensor.rand(t.shape) * 0.5 + 0.25)
            }
        }
    }

    @Test("every family: optimized logits equal the plain forward's within 1e-4 relative, and train() restores the plain path",
          arguments: ["lrformer-tiny", "lrformer-plus-tiny", "segformer-b0", "afformer-tiny", "segvit-tiny", "segvit-tiny-shrunk"])
    func everyFamily(name: String) throws {
        Torch.manualSeed(7)
        let model = try ModelRegistry.segmentation(name)
        Self.perturbBatchNorms(model)
        model.eval()
        // SegViT's query down-sampling needs an even square token grid; the others get a non-square input.
        let x = name.hasPrefix("segvit") ? Tensor.randn([1, 3, 128, 128]) : Tensor.randn([1, 3, 96, 128])
        let plain = Torch.inferenceMode { model.logits(x) }
        #expect(model.optimizeForInference())
        let optimized = Torch.inferenceMode { model.logits(x) }
        #expect(optimized.shape == plain.shape)
        let err = Fixtures.relativeError(optimized, plain)
        #expect(err < 1e-4, "\(name): optimized vs plain relative difference \(err)")
        model.train().eval()
        #expect(!model.isOptimizedForInference)
        #expect(Fixtures.relativeError(Torch.inferenceMode { model.logits(x) }, plain) == 0)
    }
}
