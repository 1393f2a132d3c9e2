import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

extension EngineRuns {
    /// `precision: bf16 | fp16` through the trainer, evaluation and the benchmark on the CPU.
    @Suite("Mixed precision in the engine")
    struct MixedPrecisionEngineTests {
        @Test("bf16 autocast trains and evaluates; fp16 keeps its gradient scaler's state in checkpoints and resumes with it")
        func trainAndResume() throws {
            let dir = try EngineFixtures.temporaryFolder("amp")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try EngineFixtures.synthData(in: dir, train: 6, val: 1)

            var bf16 = try EngineFixtures.tinyConfig(data: data, iterations: 3)
            bf16.precision = .bf16
            bf16.evalInterval = 3
            let a = try Trainer(config: bf16, options: EngineFixtures.trainerOptions(dir.appendingPathComponent("bf16")),
                                logger: EngineFixtures.silentLogger).run()
            #expect(a.finalLoss.isFinite && a.lastMetrics?.mIoU.isFinite == true)
            #expect(try TrainingCheckpoint(folder: a.checkpoint).readState().config.precision == .bf16)

            var fp16 = try EngineFixtures.tinyConfig(data: data, iterations: 4)
            fp16.precision = .fp16
            fp16.evalInterval = 0
            fp16.checkpointInterval = 2
            let work = dir.appendingPathComponent("fp16")
            let b = try Trainer(config: fp16, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.silentLogger).run()
            #expect(b.finalLoss.isFinite)
            let state = try TrainingCheckpoint(folder: b.checkpoint).readState()
            let scale = try #require(state.hooksState?["scale"], "the scaler's state is in the checkpoint: \(String(describing: state.hooksState))")
            #expect(scale > 0 && scale <= 65536)

            // Resuming restores the scaler: a run to 6 continues from the saved scale.
            var longer = fp16
            longer.iterations = 6
            let c = try Trainer(config: longer, options: EngineFixtures.trainerOptions(work, resume: true), logger: EngineFixtures.silentLogger).run()
            #expect(c.iterations == 6 && c.finalLoss.isFinite)
        }

        @Test("bf16 evaluation gives nearly the fp32 predictions; bf16 and fp16 benchmarks run")
        func evaluateAndBench() throws {
            let dir = try EngineFixtures.temporaryFolder("amp-eval")
            defer { try? FileManager.default.removeItem(at: dir) }
            let dataset = try SegDataset.open(.synth, root: EngineFixtures.synthData(in: dir, train: 0, val: 2), split: .val)
            Torch.manualSeed(2)
            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: dataset.numClasses)
            var settings = EngineFixtures.settings()
            let fp32 = try Evaluator(settings: settings, workers: 1).evaluate(model, dataset: dataset)
            settings.precision = .bf16
            let bf16 = try Evaluator(settings: settings, workers: 1).evaluate(model, dataset: dataset)
            let total = fp32.areaLabel.reduce(0, +)
            let agreement = Double(zip(fp32.areaIntersect, bf16.areaIntersect).map { min($0, $1) }.reduce(0, +)) / Double(max(total, 1))
            print("bf16 vs fp32 evaluation: intersect agreement \(agreement)")
            #expect(abs(bf16.aAcc - fp32.aAcc) < 0.05)

            for precision in [Precision.bf16, .fp16] {
                let r = try #require(try Benchmark.run(models: ["lrformer-tiny"], sizes: [64], dtype: precision, warmup: 0, repeats: 1).first)
                #expect(r.precision == precision && r.latency.medianMs > 0)
            }
            let trained = try #require(try Benchmark.run(models: ["lrformer-tiny"], sizes: [64], batch: 2, dtype: .fp16, train: true,
                                                        warmup: 0, repeats: 1).first)
            #expect(trained.train && trained.latency.medianMs > 0)
        }

        @Test("An allocation failure inside a forward pass is a thrown error of kind out-of-memory, with a hint")
        func outOfMemoryIsAnError() throws {
            let error = #expect(throws: TorchError.self) {
                _ = try guardedForward { Tensor.zeros([1 << 25, 1 << 25]) + 1 }
            }
            #expect(error?.kind == .outOfMemory, "\(String(describing: error))")
        }
    }
}
