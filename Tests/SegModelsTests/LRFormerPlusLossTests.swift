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
}
