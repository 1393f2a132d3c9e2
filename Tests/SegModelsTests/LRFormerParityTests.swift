import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

@Suite("LRFormer parity with the official implementation")
struct LRFormerParityTests {
    static func tinyModel() throws -> LRFormerSegmentation {
        let model = LRFormerSegmentation(name: "lrformer-tiny", config: .tiny, numClasses: 5)
        let weights = try SafeTensors.read(Fixtures.resource("lrformer/parity-tiny/weights.safetensors"))
        try model.load(stateDict: weights, strict: true)
        return model
    }

    @Test("tiny: every stage and the logits within 1e-4 relative (eval, float32)")
    func tinyForward() throws {
        let model = try Self.tinyModel().eval()
        let input = try Fixtures.tensors(Fixtures.resource("lrformer/parity-tiny/input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(Fixtures.resource("lrformer/parity-tiny/expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        for key in ["stage1", "stage2", "stage3", "stage4", "logits"] {
            let got = out[key]!, want = expected[key]!
            #expect(got.shape == want.shape, "\(key) shape")
            let err = Fixtures.relativeError(got, want)
            #expect(err < 1e-4, "\(key): relative error \(err)")
        }
        let full = Torch.inferenceMode { model.predictLogits(input) }
        #expect(Fixtures.relativeError(full, expected["logits_full"]!) < 1e-4)
    }

    @Test("LRFormer-T: stages and logits within 1e-4 relative (fixture read from ../shared/reference/lrformer/parity-t, 26 MB)",
          .enabled(if: Fixtures.reference("lrformer/parity-t") != nil, "needs ../shared/reference/lrformer/parity-t (or SWIFTSEG_REFERENCE)"))
    func tForward() throws {
        let ref = try #require(Fixtures.reference("lrformer/parity-t"))
        let model = LRFormerSegmentation(name: "lrformer-t", config: .t, numClasses: 150)
        try model.load(stateDict: SafeTensors.read(ref.appendingPathComponent("weights.safetensors")), strict: true)
        model.eval()
        let input = try Fixtures.tensors(ref.appendingPathComponent("input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(ref.appendingPathComponent("expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        for key in ["stage1", "stage2", "stage3", "stage4", "logits"] {
            let err = Fixtures.relativeError(out[key]!, expected[key]!)
            #expect(err < 1e-4, "\(key): relative error \(err)")
        }
    }
}
