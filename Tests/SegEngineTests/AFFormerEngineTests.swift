import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

extension EngineRuns {
    /// `afformer-tiny` (the real variant: 2.2 M parameters) through train, eval and predict on synthetic data.
    @Suite("AFFormer engine run")
    struct AFFormerEngineTests {
        @Test("A short run lowers the loss; its checkpoint keeps every alias key, evaluates as in training and predicts")
        func trainEvaluatePredict() throws {
            let dir = try EngineFixtures.temporaryFolder("afformer")
            defer { try? FileManager.default.removeItem(at: dir) }
            var config = try EngineFixtures.tinyConfig(data: EngineFixtures.synthData(in: dir), iterations: 30, lr: 2e-3,
                                                       model: "afformer-tiny")
            config.evalInterval = 30
            // The synthetic preset borrows the ADE20K recipe: AdamW, weight decay 0.01 on every parameter.
            #expect(config.optimizer.type == .adamw && config.optimizer.weightDecay == 0.01 && config.optimizer.paramRules.isEmpty)
            let work = dir.appendingPathComponent("run")
            let summary = try Trainer(config: config, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.silentLogger).run()
            #expect(summary.iterations == 30 && !summary.interrupted)

            let losses = try TrainerTests.readLog(work).compactMap(\.loss)
            #expect(losses.count == 30 && losses.allSatisfy { $0.isFinite && $0 > 0 })
            let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
            print("afformer-tiny synthetic run: loss first 5 mean \(first), last 5 mean \(last)")
            #expect(last < 0.85 * first, "loss did not go down: first 5 mean \(first), last 5 mean \(last)")

            // The checkpoint lists every key of the official state_dict, the aliases of a shared tensor equal.
            let stored = try EngineFixtures.storedWeights(summary.checkpoint)
            let fresh = try ModelRegistry.segmentation("afformer-tiny", numClasses: SynthDataset.classes.count)
            #expect(stored.keys == fresh.stateDict().map(\.0))
            for group in fresh.sharedKeyGroups() {
                let values = group.map { stored[$0]!.floatValues() }
                #expect(values.allSatisfy { $0 == values[0] }, "\(group[0])")
            }
            #expect(fresh.sharedKeyGroups().count == 24)

            // Loaded strictly, it evaluates to exactly what the trainer measured at iteration 30.
            let loaded = try ModelLoader.load(model: "afformer-tiny", checkpoint: summary.checkpoint)
            #expect(loaded.model.unusedParameterKeys.count == 3 && loaded.classNames == SynthDataset.classes.names)
            let valSet = try DataSetup.dataset(config, split: .val)
            let settings = try EvaluationSettings.training(config)
            let metrics = try Evaluator(settings: settings, workers: 1).evaluate(loaded.model, dataset: valSet, limit: 2)
            let trained = try #require(summary.lastMetrics)
            #expect(metrics.areaIntersect == trained.areaIntersect && metrics.areaUnion == trained.areaUnion)
            #expect(metrics.mIoU.isFinite)

            // Prediction at an odd size gives a label per pixel of the original image.
            let image = PredictorTests.image(width: 75, height: 61, seed: 3)
            let predictor = Predictor(loaded: loaded, settings: settings)
            let labels = try predictor.segment(image).labels
            #expect(labels.count == 75 * 61 && labels.allSatisfy { Int($0) < SynthDataset.classes.count })
        }
    }
}

@Suite("AFFormer training presets")
struct AFFormerPresetTests {
    @Test("the presets carry the official recipe and test protocol")
    func presets() throws {
        let ade = try TrainConfig.preset(model: "afformer-tiny", dataset: .ade20k)
        #expect(ade.optimizer.lr == 3e-4 && ade.batchSize == 16 && ade.evalInterval == 5000 && ade.test.sizeDivisor == 32)
        #expect(ade.schedule.power == 1 && ade.schedule.minLR == 0 && ade.gradClipMaxNorm == nil)
        let city = try TrainConfig.preset(model: "afformer-base", dataset: .cityscapes)
        #expect(city.optimizer.lr == 4e-4 && city.batchSize == 8 && city.cropSize == .square(1024))
        #expect(city.test.mode == .whole && city.test.sizeDivisor == nil)
        try city.validate()
    }
}
