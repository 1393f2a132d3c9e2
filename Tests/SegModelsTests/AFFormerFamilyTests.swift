import Foundation
import Testing
import Torch
@testable import SegModels

/// The registry entry against the official configs (dongbo811/AFFormer configs/AFFormer/*, read at c42ad25).
@Suite("AFFormer family: recipe and test protocol of the official configs")
struct AFFormerFamilyTests {
    @Test("variants, classes and input sizes")
    func variants() throws {
        let family = try ModelRegistry.family(of: "afformer")
        #expect(family.variants.map(\.name) == ["afformer-tiny", "afformer-small", "afformer-base"])
        #expect(family.variants.allSatisfy { $0.kind == .segmentation && $0.defaultClasses == 150 && $0.normalization == .imageNet })
        #expect(family.inputConstraints.problem(with: Size2D(100, 150), model: "afformer-tiny") == nil)
        #expect(family.inputConstraints.problem(with: Size2D(16, 150), model: "afformer-tiny") != nil)
        #expect(try ModelRegistry.segmentation("afformer-small", numClasses: 19).numClasses == 19)
        #expect(family.loss.name == "cross-entropy")
    }

    @Test("ADE20K: AdamW 3e-4, wd 0.01 on all, poly 1.0 with 1500 warm-up, 160k x 16, crop 512, eval every 5000",
          arguments: ["afformer-tiny", "afformer-small", "afformer-base"])
    func ade20k(variant: String) throws {
        let family = try ModelRegistry.family(of: variant)
        let recipe = family.recipe(.ade20k, variant)
        let r = recipe.value
        #expect(r.optimizer == .adamw && r.lr == 3e-4 && r.betas == [0.9, 0.999] && r.weightDecay == 0.01)
        #expect(r.paramRules.isEmpty && r.gradClipMaxNorm == nil)
        #expect(r.policy == .poly && r.power == 1 && r.minLR == 0 && r.warmupIters == 1500 && r.warmupRatio == 1e-6)
        #expect(r.iterations == 160_000 && r.batchSize == 16 && r.evalInterval == 5000)
        #expect(r.cropSize == .square(512) && r.trainScale == ResizeScale(longSide: 2048, shortSide: 512) && r.ratioRange == [0.5, 2.0])
        #expect(r.reduceZeroLabel)
        #expect(recipe.source.contains("dongbo811/AFFormer") && recipe.source.contains("AFFormer_\(variant.dropFirst(9))_ade20k.py"))

        let test = family.testProtocol(.ade20k, variant)
        let p = test.value
        // Resize(2048, 512, keep_ratio) + ResizeToMultiple(32) (rounding up), whole inference, mmseg 0.x TTA.
        #expect(p.mode == .whole && p.scale == ResizeScale(longSide: 2048, shortSide: 512) && p.sizeDivisor == 32)
        #expect(p.tta.rule == .scaleTestScale && p.tta.flip && p.tta.ratios == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75])
        #expect(test.source.contains("ade20k.py"))
    }

    @Test("Cityscapes: AdamW 4e-4, 160k x 8, crop 1024, whole inference at 2048x1024 without rounding")
    func cityscapes() throws {
        let family = try ModelRegistry.family(of: "afformer-base")
        let r = family.recipe(.cityscapes, "afformer-base").value
        #expect(r.lr == 4e-4 && r.weightDecay == 0.01 && r.batchSize == 8 && r.iterations == 160_000 && r.evalInterval == 5000)
        #expect(r.cropSize == .square(1024) && r.trainScale == ResizeScale(longSide: 2048, shortSide: 1024) && !r.reduceZeroLabel)
        let test = family.testProtocol(.cityscapes, "afformer-base")
        #expect(test.value.mode == .whole && test.value.scale == ResizeScale(longSide: 2048, shortSide: 1024))
        #expect(test.value.sizeDivisor == nil && test.value.tta.rule == .scaleTestScale)
        #expect(test.source.contains("AFFormer_base_cityscapes.py"))
        // No COCO-Stuff config upstream: said so in the source.
        #expect(family.recipe(.cocoStuff, "afformer-base").source.contains("no AFFormer COCO-Stuff config"))
    }
}
