import Foundation
import Testing
import SegModels
import Torch
@testable import SegEngine

/// `--precision bf16-encoder`: autocast in the encoder, the decode head in float32.
@Suite("Encoder in bf16, decode head in fp32")
struct Float32HeadTests {
    @Test("the head's output stays float32 under autocast, and the logits stay within bf16 rounding of fp32",
          arguments: ["lrformer-tiny", "segformer-b0", "afformer-tiny", "lrformer-plus-tiny", "segvit-tiny"])
    func headRunsInFloat32(name: String) throws {
        Torch.manualSeed(11)
        let model = try ModelRegistry.segmentation(name)
        model.eval()
        let side = name.hasPrefix("segvit") ? 128 : 96
        let x = Tensor.randn([1, 3, side, side])
        let fp32 = Torch.inferenceMode { model.logits(x) }
        let allBF16 = Torch.inferenceMode { Torch.autocast(device: .cpu, dtype: .bfloat16) { model.logits(x) } }
        let headFP32 = Torch.inferenceMode { Precision.bf16Encoder.run(on: .cpu) { model.logits(x) } }
        #expect(!Precision.bf16.float32Head && Precision.bf16Encoder.float32Head && Precision.fp16Encoder.usesGradScaler)
        #expect(allBF16.dtype == .bfloat16, "\(name): a bf16 head ends in bf16")
        #expect(headFP32.dtype == .float32, "\(name): the float32 head ends in float32")
        let scale = fp32.abs().max().item()
        let error = (headFP32 - fp32).abs().max().item()
        #expect(error <= 0.1 * max(scale, 1e-6), "\(name): \(error) vs largest logit \(scale)")
        // Outside the policy nothing changes: the same model under plain bf16 autocast is all-bf16 again.
        #expect(Torch.inferenceMode { Precision.bf16.run(on: .cpu) { model.logits(x) } }.dtype == .bfloat16)
    }

    @Test("bf16-encoder parses as a precision choice")
    func parses() throws {
        #expect(Precision(rawValue: "bf16-encoder") == .bf16Encoder && Precision(rawValue: "fp16-encoder") == .fp16Encoder)
    }
}
