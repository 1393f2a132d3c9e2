import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// The AFFormer-tiny fixture (22 MB, read from shared/reference/afformer/fixture_tiny_128x160): official weights
/// (fp16, every alias key), a 128x160 input and 41 module outputs of the official code. Skipped without it.
func afformerFixture() -> URL? {
    guard let url = Fixtures.sharedReference?.appendingPathComponent("afformer/fixture_tiny_128x160"),
          FileManager.default.fileExists(atPath: url.appendingPathComponent("expected.safetensors").path) else { return nil }
    return url
}

@Suite("AFFormer parity with the official implementation",
       .enabled(if: afformerFixture() != nil, "fixture shared/reference/afformer/fixture_tiny_128x160 not found (set SWIFTSEG_REFERENCE)"))
struct AFFormerParityTests {
    static func tinyModel() throws -> AFFormerSegmentation {
        let model = AFFormerSegmentation(name: "afformer-tiny", config: .tiny, numClasses: 150)
        let report = try model.load(stateDict: SafeTensors.read(afformerFixture()!.appendingPathComponent("weights_fp16.safetensors")))
        #expect(report.isClean && report.loaded == 420)
        return model.eval()
    }

    @Test("every stored intermediate within 1e-4 relative, the prediction equal (eval, float32)")
    func tinyForward() throws {
        let model = try Self.tinyModel()
        let fixture = afformerFixture()!
        let input = try Fixtures.tensors(fixture.appendingPathComponent("input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(fixture.appendingPathComponent("expected.safetensors"))
        #expect(expected.count == 41)
        let out = Torch.inferenceMode { model.forwardAll(input) }
        var worst = (key: "", error: 0.0)
        for key in expected.keys.sorted() where key != "seg_pred" {
            guard let got = out[key] else {
                Issue.record("no output named \(key)")
                continue
            }
            let want = expected[key]!
            #expect(got.shape == want.shape, "\(key) shape")
            let err = Fixtures.relativeError(got, want)
            if err > worst.error { worst = (key, err) }
            if ProcessInfo.processInfo.environment["SWIFTSEG_VERBOSE_PARITY"] != nil { print("  \(key): \(err)") }
            #expect(err < 1e-4, "\(key): relative error \(err)")
        }
        print("AFFormer-tiny parity: worst relative error \(worst.error) at \(worst.key)")
        let pred = try #require(out["seg_pred"])
        let agree = (pred .== expected["seg_pred"]!).to(.float32).mean().item()
        #expect(agree == 1, "argmax agreement \(agree)")
        // The model's own inference path gives the same logits.
        let logits = Torch.inferenceMode { model.predictLogits(input) }
        #expect(Fixtures.relativeError(logits, expected["seg_logits"]!) < 1e-4)
    }

    @Test("mmseg's cross-entropy (mean over all pixels, 255 ignored) equals the reference loss 4.703233")
    func loss() throws {
        let fixture = afformerFixture()!
        let tensors = try Fixtures.tensors(fixture.appendingPathComponent("input.safetensors"))
        let expected = try Fixtures.tensors(fixture.appendingPathComponent("expected.safetensors"))
        let family = try ModelRegistry.family(of: "afformer-tiny")
        let labels = tensors["label"]!.squeeze(1)
        let value = family.loss(SegmentationOutputs(logits: expected["decode_head.conv_seg"]!), labels: labels)
        print("AFFormer-tiny fixture loss: \(value.total.item()) (reference 4.703233)")
        #expect(abs(value.total.item() - 4.703233) < 1e-5, "loss \(value.total.item())")
    }

    /// Sides that are not multiples of 32: strided convs give floor((n-1)/s)+1 cells, the transformer branches are
    /// upsampled to the CNN branch (align_corners true), the last encoders run on maps smaller than the 6x6 pooling.
    @Test("sizes that are not multiples of 32 run and give the official shapes", arguments: [(100, 150), (97, 131), (33, 45)])
    func oddSizes(_ size: (Int, Int)) throws {
        let model = try Self.tinyModel()
        let (h, w) = size
        func down(_ n: Int, _ s: Int) -> Int { (n - 1) / s + 1 }
        let (h4, w4) = (down(down(h, 2), 2), down(down(w, 2), 2))
        let (h8, w8) = (down(h4, 2), down(w4, 2))
        let expected: [String: [Int]] = [
            "backbone.stem": [1, 32, h4, w4],
            "backbone.mhca_stages.0": [1, 64, h4, w4],
            "backbone.mhca_stages.1": [1, 160, h8, w8],
            "backbone.mhca_stages.2.mhca_blks.0": [1, 160, down(h8, 2), down(w8, 2)],
            "backbone.mhca_stages.2": [1, 216, h8, w8],
            "backbone.mhca_stages.3.mhca_blks.0": [1, 216, down(h8, 4), down(w8, 4)],
            "backbone.mhca_stages.3.mhca_blks.0.MHCA_layers.1": [1, down(h8, 4) * down(w8, 4), 216],
            "backbone.mhca_stages.3": [1, 216, h8, w8],
            "decode_head.conv_seg": [1, 150, h8, w8],
            "seg_logits": [1, 150, h, w],
            "seg_pred": [1, h, w],
        ]
        let out = Torch.inferenceMode { model.forwardAll(Tensor.randn([1, 3, h, w])) }
        for (key, shape) in expected { #expect(out[key]?.shape == shape, "\(key) at \(h)x\(w)") }
        #expect(out["seg_logits"]!.allFinite())
    }
}
