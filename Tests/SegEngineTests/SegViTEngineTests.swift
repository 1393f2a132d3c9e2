import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

extension EngineRuns {
    /// The reduced SegViT (ATM head, mask-classification loss) through the trainer, which takes its loss from the
    /// family, then evaluation and prediction with slide windows of the model's square input.
    @Suite("SegViT engine run")
    struct SegViTEngineTests {
        @Test("A short run with the ATM loss lowers the loss; its checkpoint evaluates on square windows and predicts")
        func trainEvaluatePredict() throws {
            // (64x64 images: the 128-pixel windows are clipped to the image, still square.)
            let dir = try EngineFixtures.temporaryFolder("segvit")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try EngineFixtures.synthData(in: dir, train: 8, val: 2, size: 64)
            // The recipe's head lr x10 applies: 1e-4 gives the head 1e-3.
            var config = try EngineFixtures.tinyConfig(data: data, iterations: 30, lr: 1e-4, model: "segvit-tiny")
            config.evalInterval = 30
            #expect(config.test.mode == .slide && config.test.slideCrop == .square(128), "the family's slide protocol")
            let work = dir.appendingPathComponent("run")
            let summary = try Trainer(config: config, options: EngineFixtures.trainerOptions(work),
                                      logger: EngineFixtures.silentLogger).run()
            #expect(summary.iterations == 30)

            // The log shows the ATM loss terms (class, focal, dice per stage), not a pixel cross-entropy.
            struct Line: Decodable { var loss: Double?; var terms: [String: Double]?; var peakMemoryMiB: Double? }
            let lines = try String(contentsOf: work.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
            let losses = lines.compactMap(\.loss)
            // Every iteration line carries the process's peak memory (the resident set's high-water mark on the CPU).
            let peaks = lines.filter { $0.loss != nil }.map(\.peakMemoryMiB)
            #expect(!peaks.isEmpty && peaks.allSatisfy { ($0 ?? 0) > 10 }, "\(peaks)")
            #expect(lines.first?.terms?.keys.contains { $0.contains("dice") } == true, "\(String(describing: lines.first?.terms))")
            let first = losses.prefix(4).reduce(0, +) / 4, last = losses.suffix(4).reduce(0, +) / 4
            print("segvit-tiny synthetic run: loss first 4 mean \(first), last 4 mean \(last)")
            #expect(last < 0.9 * first, "loss did not go down: \(first) -> \(last)")

            let loaded = try ModelLoader.load(model: "segvit-tiny", checkpoint: summary.checkpoint)
            let settings = try EvaluationSettings.training(config)
            let metrics = try Evaluator(settings: settings, workers: 1).evaluate(loaded.model, dataset: DataSetup.dataset(config, split: .val))
            #expect(metrics.mIoU.isFinite && metrics.areaLabel.reduce(0, +) > 0)
            let labels = try Predictor(loaded: loaded, settings: settings).segment(PredictorTests.image(width: 150, height: 130, seed: 2))
            #expect(labels.width == 150 && labels.height == 130 && labels.labels.allSatisfy { Int($0) < SynthDataset.classes.count })

            // Whole-image inference on a non-square image is refused up front, not a trap in the head.
            var whole = settings
            whole.test.mode = .whole
            let error = #expect(throws: EngineError.self) {
                try Predictor(loaded: loaded, settings: whole).segment(PredictorTests.image(width: 150, height: 130, seed: 2))
            }
            #expect(error?.message.contains("segvit-tiny needs") == true, "\(String(describing: error))")
        }
    }
}
