import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// LRFormer+ (LRFormer encoder + mmdet Mask2Former head) against the official code's outputs
/// (Resources/lrformer-plus, copied from /work/shared/reference/lrformer-plus).
@Suite("LRFormer+ parity with the official implementation")
struct LRFormerPlusParityTests {
    static func tinyModel() throws -> Mask2FormerSegmentation {
        let model = try #require(ModelRegistry.segmentation("lrformer-plus-tiny") as? Mask2FormerSegmentation)
        try model.load(stateDict: SafeTensors.read(Fixtures.resource("lrformer-plus/fixture-tiny/weights.safetensors")), strict: true)
        return model
    }

    static let fixtureKeys = ["backbone.out0", "backbone.out1", "backbone.out2", "backbone.out3", "pixel_decoder.mask_features",
                              "pixel_decoder.memory0", "pixel_decoder.memory1", "pixel_decoder.memory2"]
        + (0...3).flatMap { ["decoder.\($0).cls_logits", "decoder.\($0).mask_logits"] } + ["seg_logits"]

    @Test("tiny: backbone, pixel decoder, every decoder layer's logits and seg_logits within 1e-4 relative (eval, float32)")
    func tinyForward() throws {
        let model = try Self.tinyModel().eval()
        let input = try Fixtures.tensors(Fixtures.resource("lrformer-plus/fixture-tiny/input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(Fixtures.resource("lrformer-plus/fixture-tiny/expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        #expect(Set(expected.keys) == Set(Self.fixtureKeys))
        for key in Self.fixtureKeys {
            let got = try #require(out[key], "no output \(key)"), want = expected[key]!
            #expect(got.shape == want.shape, "\(key) shape \(got.shape) vs \(want.shape)")
            let err = Fixtures.relativeError(got, want)
            print("LRFormer+ tiny \(key): relative error \(err)")
            #expect(err < 1e-4, "\(key): relative error \(err)")
        }
        // The public entry points give the same tensors: predictLogits = seg_logits, logits = the same inference
        // at stride 4.
        let full = Torch.inferenceMode { model.predictLogits(input) }
        #expect(Fixtures.relativeError(full, expected["seg_logits"]!) < 1e-4)
        let low = Torch.inferenceMode { model.logits(input) }
        #expect(low.shape == [1, 5, 16, 24])
    }

    @Test("the fixture exercises masked cross-attention, including queries masked everywhere")
    func maskedAttentionIsExercised() throws {
        let expected = try Fixtures.tensors(Fixtures.resource("lrformer-plus/fixture-tiny/expected.safetensors"))
        var partly = 0, everywhere = 0
        for i in 0...2 {
            // The mask of layer i comes from prediction i, resized to the level it attends (strides 32, 16, 8).
            let sizes = [(2, 3), (4, 6), (8, 12)]
            let small = F.interpolate(expected["decoder.\(i).mask_logits"]!, size: sizes[i % 3])
            let blocked = (F.sigmoid(small.flatten(start: 2)) .< 0.5).to(.int64).sum(dim: -1).toArray(Int64.self)
            let cells = Int64(sizes[i % 3].0 * sizes[i % 3].1)
            partly += blocked.filter { $0 > 0 && $0 < cells }.count
            everywhere += blocked.filter { $0 == cells }.count
        }
        #expect(partly > 0)
        #expect(everywhere > 0)
    }
}
