import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// The Mask2Former loss against the official run (fixture-tiny-loss): 2 images, the tiny model, 64 points, every
/// `torch.rand` draw of the point sampler stored and replayed here.
@Suite("LRFormer+ loss parity (replayed point draws)")
struct LRFormerPlusLossTests {
    static func replayedDraws() throws -> [Tensor] {
        let stored = try Fixtures.tensors(Fixtures.resource("lrformer-plus/fixture-tiny-loss/loss_expected.safetensors"))
        return (0..<16).map { stored["rand.\($0)"]! }
    }

    static var fixtureConfig: Mask2FormerLossConfig {
        var c = Mask2FormerLossConfig.official
        c.numPoints = 64
        return c
    }

    @Test("every loss term within 1e-5 relative of the float64 reference, every draw used in order")
    func lossTerms() throws {
        let model = try LRFormerPlusParityTests.tinyModel().eval()
        let batch = try Fixtures.tensors(Fixtures.resource("lrformer-plus/fixture-tiny-loss/loss_input.safetensors"))
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.resource("lrformer-plus/fixture-tiny-loss/loss_info.json")))
            as! [String: Any]
        let random = ReplayedUniformSource(try Self.replayedDraws())
        let loss = Mask2FormerLoss(config: Self.fixtureConfig, random: random)
        let outputs = model.trainingOutputs(batch["input"]!)
        #expect(outputs.maskPredictions.count == 4)
        let value = loss(outputs.maskPredictions, labels: batch["labels"]!)
        #expect(random.remaining == 0, "\(random.remaining) stored draws were not used")
        let names = ["loss_cls", "loss_mask", "loss_dice"] + (0...2).flatMap { d in ["cls", "mask", "dice"].map { "d\(d).loss_\($0)" } }
        #expect(value.terms.map(\.name) == names)
        var sum = 0.0
        for (name, t) in value.terms {
            let want = try #require((info[name] as? [String: Any])?["f64"] as? Double, "no reference for \(name)")
            let err = abs(t.item() - want) / abs(want)
            print("LRFormer+ loss \(name): \(t.item()) vs \(want), relative error \(err)")
            #expect(err < 1e-5, "\(name): \(t.item()) vs \(want)")
            sum += want
        }
        #expect(abs(value.total.item() - sum) / sum < 1e-5)
    }

    @Test("targets: the classes present (ignore excluded) in increasing order, with their binary masks")
    func targets() throws {
        let labels = Tensor([3, 3, 255, 0, 1, 255, 4, 4] as [Int64], shape: [2, 2, 2])
        let t = Mask2FormerLoss.targets(labels: labels, numClasses: 5, ignoreIndex: 255)
        #expect(t.map(\.classes) == [[0, 3], [1, 4]])
        #expect(t[0].masks.toArray(Float.self) == [0, 0, 0, 1, 1, 1, 0, 0])
        #expect(t[1].masks.shape == [2, 2, 2])
    }

    @Test("an image with no labelled pixel: every query targets no-object; mask and dice are 0 but keep the graph")
    func nothingLabelled() throws {
        let model = try LRFormerPlusParityTests.tinyModel().eval()
        let x = try Fixtures.tensors(Fixtures.resource("lrformer-plus/fixture-tiny/input.safetensors"))["input"]!
        let labels = Tensor.full([1, 64, 96], 255, dtype: .int64)
        let outputs = model.trainingOutputs(x)
        var c = Self.fixtureConfig
        c.numPoints = 16
        let value = Mask2FormerLoss(config: c)(outputs.maskPredictions, labels: labels)
        // Cross-entropy against class 5 (no object) for all 10 queries, weights cancelling in the average.
        let last = outputs.maskPredictions[0].classLogits[0]
        let expected = -F.logSoftmax(last, dim: -1).select(1, 5).mean().item() * 2
        #expect(abs(value.terms[0].value.item() - expected) < 1e-5)
        #expect(value.terms[1].value.item() == 0 && value.terms[2].value.item() == 0)
        value.total.backward()
        #expect(model.namedParameters().first { $0.0 == "decode_head.cls_embed.weight" }!.1.grad != nil)
    }
}
