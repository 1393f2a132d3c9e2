import Foundation
import Testing
import SegData
import SegModels
import Torch
@testable import SegEngine

/// A 3-class "model" whose logits are its input: a per-pixel function, so any correct tiling of the image
/// (slide inference) or mirroring (flip TTA) must give back exactly what the whole image gives.
final class EchoModel: Module, SegmentationModel {
    var name: String { "echo" }
    var numClasses: Int { 3 }
    var outputStride: Int { 1 }
    var classifierKey: String { "none" }
    func logits(_ x: Tensor) -> Tensor { x * 1.0 }
}

extension EngineRuns {
    @Suite("Evaluator")
    struct EvaluatorTests {

        /// Labelled pixels per class over the whole split (255 left out).
        static func labelCounts(_ dataset: SegDataset) throws -> [Int] {
            var counts = [Int](repeating: 0, count: dataset.numClasses)
            for i in 0..<dataset.count {
                for v in try dataset.load(i).label.labels where v != LabelMap.ignoreIndex { counts[Int(v)] += 1 }
            }
            return counts
        }

        static func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
            (a - b).abs().max().item()
        }

        @Test("Metrics of a model that predicts one class everywhere equal the ones computed from the labels")
        func metricsByHand() throws {
            let dir = try EngineFixtures.temporaryFolder("eval")
            defer { try? FileManager.default.removeItem(at: dir) }
            let dataset = try SegDataset.open(.synth, root: EngineFixtures.synthData(in: dir, train: 0, val: 3), split: .val)
            let counts = try Self.labelCounts(dataset)
            let valid = counts.reduce(0, +)
            let winner = counts.indices.max { counts[$0] < counts[$1] }!
            #expect(valid > 0 && counts[winner] < valid, "the check needs more than one class in the labels")

            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: dataset.numClasses)
            try EngineFixtures.constantPrediction(model, winner: winner)
            let metrics = try Evaluator(settings: EngineFixtures.settings(), workers: 1).evaluate(model, dataset: dataset)

            let share = Double(counts[winner]) / Double(valid)
            #expect(abs(metrics.aAcc - share) < 1e-12)
            #expect(metrics.areaPrediction[winner] == Int64(valid))
            #expect(metrics.areaLabel == counts.map(Int64.init))
            for c in 0..<dataset.numClasses {
                if c == winner {
                    #expect(abs(metrics.iou[c] - share) < 1e-12 && metrics.acc[c] == 1)
                } else if counts[c] > 0 {
                    #expect(metrics.iou[c] == 0 && metrics.acc[c] == 0)
                } else {
                    #expect(metrics.iou[c].isNaN && metrics.acc[c].isNaN)  // absent from labels and predictions
                }
            }
            let present = counts.filter { $0 > 0 }.count
            #expect(abs(metrics.mIoU - share / Double(present)) < 1e-12)
            #expect(abs(metrics.mAcc - 1 / Double(present)) < 1e-12)

            // Slide inference and TTA of a constant model give the same numbers.
            let slide = try Evaluator(settings: EngineFixtures.settings(mode: .slide(crop: .square(32), stride: .square(24))), workers: 1)
                .evaluate(model, dataset: dataset)
            #expect(slide.areaIntersect == metrics.areaIntersect && slide.areaUnion == metrics.areaUnion)
            let tta = try Evaluator(settings: EngineFixtures.settings(tta: TestTimeAugmentation(scale: (256, 64), scales: [0.75, 1.25])),
                                    workers: 1).evaluate(model, dataset: dataset)
            #expect(tta.areaIntersect == metrics.areaIntersect && tta.areaUnion == metrics.areaUnion)
            // `limit` stops early.
            let one = try Evaluator(settings: EngineFixtures.settings(), workers: 1).evaluate(model, dataset: dataset, limit: 1)
            #expect(one.areaLabel.reduce(0, +) == Int64(64 * 64) - Int64(try dataset.load(0).label.labels.filter { $0 == 255 }.count))
        }

        @Test("Slide inference with overlapping windows equals whole inference for per-pixel and constant models")
        func slideEqualsWhole() throws {
            // 80x112 with 64x64 windows every 32: 2 x 3 windows, overlapping, the last ones aligned to the border.
            let x = Tensor.randn([1, 3, 80, 112])
            let slide = InferenceMode.slide(crop: .square(64), stride: .square(32))
            let echo = EchoModel()
            let any = InputConstraints(minimumSide: 1)
            let whole = try SegmentationInference.probabilities(echo, x, mode: .whole, outputSize: Size2D(80, 112), constraints: any)
            let tiled = try SegmentationInference.probabilities(echo, x, mode: slide, outputSize: Size2D(80, 112), constraints: any)
            #expect(tiled.shape == [1, 3, 80, 112])
            #expect(Self.maxDifference(whole, tiled) < 1e-6)
            // Windows larger than a side and strides that do not divide it.
            let odd = try SegmentationInference.probabilities(echo, x, mode: .slide(crop: Size2D(96, 50), stride: Size2D(40, 37)),
                                                              outputSize: Size2D(80, 112), constraints: any)
            #expect(Self.maxDifference(whole, odd) < 1e-6)

            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: 4)
            try EngineFixtures.constantPrediction(model, winner: 3)
            model.eval()
            let a = try SegmentationInference.probabilities(model, x, mode: .whole, outputSize: Size2D(40, 56), constraints: any)
            let b = try SegmentationInference.probabilities(model, x, mode: slide, outputSize: Size2D(40, 56), constraints: any)
            #expect(a.shape == [1, 4, 40, 56] && Self.maxDifference(a, b) < 1e-6)
            #expect(b.argmax(dim: 1).toArray(Int64.self).allSatisfy { $0 == 3 })
        }

        @Test("TTA returns probabilities that sum to 1 per pixel at the label size, and un-mirrors flipped views")
        func testTimeAugmentation() throws {
            var pixels = [UInt8](repeating: 0, count: 70 * 50 * 3)
            for i in pixels.indices { pixels[i] = UInt8((i * 37 + i / 211) % 256) }
            let image = Image(width: 70, height: 50, channels: 3, pixels: pixels)
            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: 5)
            model.eval()
            let tta = TestTimeAugmentation(scale: (256, 64), scales: [0.5, 1.0, 1.5], flip: true)
            let evaluator = Evaluator(settings: EngineFixtures.settings(tta: tta), workers: 1)
            let p = try Torch.inferenceMode {
                try evaluator.augmentedProbabilities(model, image: image, tta: tta, normalize: .imagenet, size: Size2D(50, 70))
            }
            #expect(p.shape == [1, 5, 50, 70])
            #expect(Self.maxDifference(p.sum(dim: 1), Tensor.ones([1, 50, 70])) < 1e-5)
            #expect(p.min().item() >= 0)

            // A flip-only TTA of a per-pixel model is the plain prediction, if flipped views are flipped back.
            let flipOnly = TestTimeAugmentation(scale: (256, 64), scales: [1.0], flip: true, sizeDivisor: nil)
            let echo = EchoModel()
            let view = flipOnly.views(width: 70, height: 50)[0]
            let plain = try SegmentationInference.probabilities(echo, Tensor(image: Normalize.imagenet.apply(flipOnly.render(image, view: view))),
                                                                mode: .whole, outputSize: Size2D(50, 70), constraints: InputConstraints(minimumSide: 1))
            let averaged = try evaluator.augmentedProbabilities(echo, image: image, tta: flipOnly, normalize: .imagenet, size: Size2D(50, 70))
            #expect(Self.maxDifference(plain, averaged) < 1e-5)
        }
    }
}
