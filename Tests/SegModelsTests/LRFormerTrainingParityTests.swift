import Foundation
import Testing
import Torch
@testable import SegModels

@Suite("LRFormer training step parity (tiny fixture)")
struct LRFormerTrainingParityTests {
    /// Gradients that are analytically zero (removed by a following train-mode BatchNorm or softmax-invariant):
    /// the fixture holds ~1e-17 there, so they are compared with an absolute tolerance.
    static let analyticallyZero: Set<String> = [
        "backbone.block4.0.mlp.conv.bias", "backbone.block4.0.mlp.fc2.bias", "backbone.patch_embed1.conv1.0.bias",
        "backbone.patch_embed1.conv1.3.bias", "backbone.patch_embed1.conv1.6.bias", "decode_head.fuse_block1.attn.kv.bias",
        "decode_head.fuse_block1.attn.norm.bias", "decode_head.fuse_block1.attn.proj.bias", "decode_head.fuse_block1.cpe.bias",
        "decode_head.fuse_block1.mlp.conv.bias", "decode_head.fuse_block1.mlp.fc2.bias",
    ]

    @Test("loss, every gradient and the BatchNorm statistics match the official training step")
    func trainingStep() throws {
        let model = try LRFormerParityTests.tinyModel()
        // The fixture's mode: train (BatchNorm batch statistics), dropouts back in eval.
        model.train()
        for (_, m) in model.namedModules() where m is Dropout || m is Dropout2d { m.eval() }

        let batch = try Fixtures.tensors(Fixtures.resource("lrformer/parity-tiny/train_input.safetensors"))
        let reference = try Fixtures.tensors(Fixtures.resource("lrformer/parity-tiny/grads.safetensors"))
        let input = batch["input"]!, labels = batch["labels"]!

        let logits = model.logits(input)
        #expect(Fixtures.relativeError(logits, reference["logits"]!) < 1e-4)
        let up = F.interpolate(logits, size: (64, 64))
        let loss = F.crossEntropy(up, labels, ignoreIndex: 255)
        #expect(abs(loss.item() - reference["loss"]!.item()) < 1e-5, "loss \(loss.item())")
        // mmseg's default divides by all pixels, ignored ones included.
        let summed = F.crossEntropy(up, labels, ignoreIndex: 255, reduction: .sum) / Double(labels.count)
        #expect(abs(summed.item() - reference["loss_mmseg_default"]!.item()) < 1e-5)

        loss.backward()
        var checked = 0
        for (name, p) in model.namedParameters() {
            let want = try #require(reference["grad.\(name)"], "no reference gradient for \(name)")
            let got = try #require(p.grad, "no gradient for \(name)")
            #expect(got.shape == want.shape)
            if Self.analyticallyZero.contains(name) {
                #expect(Fixtures.maxAbsError(got, want) < 1e-5, "\(name) should be ~0")
            } else {
                let err = Fixtures.relativeError(got, want)
                #expect(err < 1e-3, "\(name): relative gradient error \(err)")
            }
            checked += 1
        }
        #expect(checked == 218)

        // Running statistics after one train-mode forward (momentum 0.1, unbiased variance).
        let buffers = Dictionary(uniqueKeysWithValues: model.namedBuffers())
        var statistics = 0
        for (key, want) in reference where key.hasPrefix("bn_after.") {
            let name = String(key.dropFirst("bn_after.".count))
            let got = try #require(buffers[name], "missing buffer \(name)")
            #expect(Fixtures.maxAbsError(got, want) < 1e-4 * max(1, want.to(.float64).abs().max().item()), "\(name)")
            statistics += 1
        }
        #expect(statistics > 0)
    }
}
