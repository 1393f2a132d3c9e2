import Foundation
import Testing
import SegData
import SegModels
import Torch
@testable import SegEngine

extension EngineRuns {
    /// Short real training runs of `lrformer-tiny` on a synthetic data set.
    @Suite("Trainer")
    struct TrainerTests {
        struct LoggedLoss: Decodable {
            var iteration: Int
            var loss: Double?
            var mIoU: Double?
        }

        static func readLog(_ workDir: URL) throws -> [LoggedLoss] {
            let text = try String(contentsOf: workDir.appendingPathComponent("log.jsonl"), encoding: .utf8)
            return try text.split(separator: "\n").map { try JSONDecoder().decode(LoggedLoss.self, from: Data($0.utf8)) }
        }

        @Test("A short run writes config, log, curves, a checkpoint and `best`, and the loss goes down")
        func shortRun() throws {
            let dir = try EngineFixtures.temporaryFolder("train")
            defer { try? FileManager.default.removeItem(at: dir) }
            var config = try EngineFixtures.tinyConfig(data: EngineFixtures.synthData(in: dir), iterations: 30, lr: 2e-3)
            config.checkpointInterval = 10
            config.evalInterval = 30
            let work = dir.appendingPathComponent("run")
            let summary = try Trainer(config: config, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.silentLogger).run()
            let fm = FileManager.default

            #expect(summary.iterations == 30 && !summary.interrupted && summary.finalLoss.isFinite)
            #expect(try TrainConfig.load(contentsOf: work.appendingPathComponent("config.json")) == config)

            let log = try Self.readLog(work)
            let losses = log.filter { $0.loss != nil }
            #expect(losses.map(\.iteration) == Array(1...30))
            #expect(losses.allSatisfy { $0.loss!.isFinite && $0.loss! > 0 })
            #expect(log.contains { $0.iteration == 30 && $0.mIoU != nil })
            let first = losses.prefix(5).map { $0.loss! }.reduce(0, +) / 5
            let last = losses.suffix(5).map { $0.loss! }.reduce(0, +) / 5
            #expect(last < 0.85 * first, "loss did not go down: first 5 mean \(first), last 5 mean \(last)")

            let curves = try JSONDecoder().decode(Curves.self, from: Data(contentsOf: work.appendingPathComponent("curves.json")))
            #expect(curves.iterations == (1...30).map(Double.init) && curves.loss == losses.map { $0.loss! })
            #expect(curves.evalIterations == [30])
            let svg = try String(contentsOf: work.appendingPathComponent("loss.svg"), encoding: .utf8)
            #expect(svg.contains("<svg") && svg.contains("</svg>"))
            #expect(fm.fileExists(atPath: work.appendingPathComponent("miou.svg").path))

            // Only the newest periodic checkpoint is kept, plus `best`; nothing half-written is left.
            let checkpoints = work.appendingPathComponent("checkpoints")
            #expect(try fm.contentsOfDirectory(atPath: checkpoints.path).sorted() == ["best", "iter_30"])
            #expect(summary.checkpoint.lastPathComponent == "iter_30")
            for name in ["iter_30", "best"] {
                let folder = checkpoints.appendingPathComponent(name)
                #expect(try fm.contentsOfDirectory(atPath: folder.path).sorted()
                    == ["model.safetensors", "optimizer.safetensors", "state.json"])
                let state = try TrainingCheckpoint(folder: folder).readState()
                #expect(state.iteration == 30 && state.config == config && state.classes == SynthDataset.classes.names)
            }
            #expect(summary.best?.iteration == 30 && summary.bestCheckpoint?.lastPathComponent == "best")
            let best = try TrainingCheckpoint(folder: checkpoints.appendingPathComponent("best")).readState()
            #expect(best.bestMIoU == summary.best?.mIoU && best.bestIteration == 30)
            // The final model is what the checkpoint holds: it loads strictly into a fresh model.
            let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: summary.checkpoint)
            #expect(loaded.classNames == SynthDataset.classes.names && loaded.classSource == "training checkpoint")
        }

        // The exactness of a resume (same weights as a straight run) is checked in CLITests, with each run in its
        // own process: here, another suite building a model would draw from libtorch's global generator between
        // the trainer's seeding and its dropout masks.
        @Test("Interrupted at 6 and resumed to 12: one checkpoint, and the log and curves go on without repeats")
        func interruptAndResume() throws {
            let dir = try EngineFixtures.temporaryFolder("resume")
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = try EngineFixtures.tinyConfig(data: EngineFixtures.synthData(in: dir), iterations: 12)
            let work = dir.appendingPathComponent("run")

            // Stopped as by Ctrl-C after iteration 6 (the flag is checked before the next step).
            let first = try Trainer(config: config, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.logger { line in
                if line.hasPrefix("iter 6/") { InterruptFlag.request() }
            }).run()
            #expect(first.interrupted && first.iterations == 6 && first.checkpoint.lastPathComponent == "iter_6")
            #expect(try TrainingCheckpoint(folder: first.checkpoint).readState().iteration == 6)

            // As if the run had gone on past its checkpoint before dying: the resumed log must not repeat 7 and 8.
            let handle = try FileHandle(forWritingTo: work.appendingPathComponent("log.jsonl"))
            handle.seekToEndOfFile()
            handle.write(Data("{\"iteration\":7,\"loss\":9}\n{\"iteration\":8,\"loss\":9}\n".utf8))
            try handle.close()

            let log = LogLines()
            let second = try Trainer(config: config, options: EngineFixtures.trainerOptions(work, resume: true),
                                     logger: EngineFixtures.logger(log.append)).run()
            let lines = log.lines
            #expect(lines.contains { $0.hasPrefix("resumed from") && $0.contains("iteration 6") })
            #expect(second.iterations == 12 && !second.interrupted && second.finalLoss.isFinite)
            #expect(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("checkpoints").path).sorted()
                == ["best", "iter_12"])
            let losses = try Self.readLog(work).filter { $0.loss != nil }
            #expect(losses.map(\.iteration) == Array(1...12) && losses.allSatisfy { $0.loss != 9 })
            let curves = try JSONDecoder().decode(Curves.self, from: Data(contentsOf: work.appendingPathComponent("curves.json")))
            #expect(curves.iterations == (1...12).map(Double.init) && curves.loss == losses.map { $0.loss! })
        }

        @Test("Validation images without a labelled pixel give NaN scores: logged as null, never `best`, training goes on")
        func validationWithoutLabels() throws {
            let dir = try EngineFixtures.temporaryFolder("nolabels")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try EngineFixtures.synthData(in: dir, train: 4, val: 2)
            // Annotation 0 is "other", which reduce_zero_label turns into 255 (ignore).
            let annotations = data.appendingPathComponent("ADEChallengeData2016/annotations/validation")
            for name in try FileManager.default.contentsOfDirectory(atPath: annotations.path) {
                try ImageIO.writeLabelPNG(LabelMap(width: 64, height: 64, fill: 0), palette: nil, to: annotations.appendingPathComponent(name))
            }
            var config = try EngineFixtures.tinyConfig(data: data, iterations: 4)
            config.evalInterval = 2
            let work = dir.appendingPathComponent("run")
            let log = LogLines()
            let summary = try Trainer(config: config, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.logger(log.append)).run()
            let lines = log.lines
            #expect(summary.iterations == 4 && summary.best == nil && summary.bestCheckpoint == nil)
            #expect(summary.lastMetrics?.mIoU.isNaN == true)
            #expect(lines.contains { $0.hasPrefix("warning:") }, "\(lines)")
            let evals = try Self.readLog(work).filter { $0.loss == nil }
            #expect(evals.map(\.iteration) == [2, 4] && evals.allSatisfy { $0.mIoU == nil })
        }

        @Test("A new run in a work dir holding an earlier one is refused and changes nothing; --overwrite replaces it; a resume with another model is refused")
        func earlierRunInWorkDir() throws {
            let dir = try EngineFixtures.temporaryFolder("earlier")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try EngineFixtures.synthData(in: dir, train: 4, val: 2)
            let work = dir.appendingPathComponent("run")
            let checkpoints = work.appendingPathComponent("checkpoints")
            _ = try Trainer(config: EngineFixtures.tinyConfig(data: data, iterations: 4), options: EngineFixtures.trainerOptions(work),
                            logger: EngineFixtures.silentLogger).run()
            let files = ["config.json", "log.jsonl", "checkpoints/iter_4/model.safetensors", "checkpoints/best/state.json"]
            func contents() throws -> [Data] { try files.map { try Data(contentsOf: work.appendingPathComponent($0)) } }
            let before = try contents()

            // A second, shorter run there would have pruned iter_4 and replaced best, the log and the config.
            let second = try EngineFixtures.tinyConfig(data: data, iterations: 2)
            let refused = #expect(throws: EngineError.self) {
                try Trainer(config: second, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.silentLogger).run()
            }
            #expect(refused?.message.contains("holds an earlier run (checkpoints/iter_4, checkpoints/best, log.jsonl)") == true
                    && refused?.message.contains("--resume") == true, "\(String(describing: refused))")
            #expect(try contents() == before)

            // A resume under another model name stops before config.json is rewritten.
            var other = second
            other.model = "segformer-b0"
            let wrongModel = #expect(throws: EngineError.self) {
                try Trainer(config: other, options: EngineFixtures.trainerOptions(work, resume: true), logger: EngineFixtures.silentLogger).run()
            }
            #expect(wrongModel?.message.contains("trained lrformer-tiny, not segformer-b0: resume with --model lrformer-tiny") == true,
                    "\(String(describing: wrongModel))")
            #expect(try contents() == before)

            // Asked for, the earlier run's checkpoints go and the new run's are the only ones.
            var replacing = EngineFixtures.trainerOptions(work)
            replacing.replaceEarlierRun = true
            let replaced = try Trainer(config: second, options: replacing, logger: EngineFixtures.silentLogger).run()
            #expect(replaced.iterations == 2)
            #expect(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted() == ["best", "iter_2"])
            #expect(try TrainingCheckpoint(folder: checkpoints.appendingPathComponent("best")).readState().iteration == 2)
        }

        @Test("A non-positive validation limit is refused up front")
        func evalLimitMustBePositive() throws {
            let config = try EngineFixtures.tinyConfig(data: URL(fileURLWithPath: "/tmp"), iterations: 4)
            var options = EngineFixtures.trainerOptions(URL(fileURLWithPath: "/tmp/unused"))
            options.evalLimit = 0
            let error = #expect(throws: EngineError.self) { try Trainer(config: config, options: options) }
            #expect(error?.message.contains("limit must be positive") == true)
        }

        @Test("`resume` with no checkpoint says so")
        func resumeWithoutCheckpoint() throws {
            let dir = try EngineFixtures.temporaryFolder("noresume")
            defer { try? FileManager.default.removeItem(at: dir) }
            var config = try EngineFixtures.tinyConfig(data: EngineFixtures.synthData(in: dir, train: 2, val: 0), iterations: 4)
            config.evalInterval = 0  // no validation split here
            let error = #expect(throws: EngineError.self) {
                try Trainer(config: config, options: EngineFixtures.trainerOptions(dir.appendingPathComponent("run"), resume: true),
                            logger: EngineFixtures.silentLogger).run()
            }
            #expect(error?.message.contains("no checkpoint") == true)
            #expect(error?.message.contains("run/checkpoints") == true)
        }

        @Test("An absurd learning rate stops with 'not finite' and names the last good checkpoint, still loadable")
        func nonFiniteLoss() throws {
            let dir = try EngineFixtures.temporaryFolder("nan")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try EngineFixtures.synthData(in: dir, train: 6, val: 0)
            let work = dir.appendingPathComponent("run")
            var good = try EngineFixtures.tinyConfig(data: data, iterations: 4)
            good.checkpointInterval = 4
            good.evalInterval = 0
            _ = try Trainer(config: good, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.silentLogger).run()

            // Continue at lr 1e12: AdamW's decoupled decay multiplies weights by 1 - 1e10 per step.
            var bad = try EngineFixtures.tinyConfig(data: data, iterations: 40, lr: 1e12)
            bad.checkpointInterval = 1
            bad.evalInterval = 0
            let error = #expect(throws: EngineError.self) {
                try Trainer(config: bad, options: EngineFixtures.trainerOptions(work, resume: true), logger: EngineFixtures.silentLogger).run()
            }
            let message = error?.message ?? ""
            #expect(message.contains("not finite"), "\(message)")
            // Whatever it names must be loadable and hold finite weights.
            let named = try #require(message.split(separator: " ").first { $0.contains("/checkpoints/iter_") })
            let folder = URL(fileURLWithPath: String(named).trimmingCharacters(in: CharacterSet(charactersIn: " .,;()")))
            let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: folder)
            #expect(loaded.model.parameters.allSatisfy { $0.allFinite() })
            #expect(try TrainingCheckpoint(folder: folder).readState().iteration >= 4)
            // `--resume` starts from it: a checkpoint of the weights that gave the bad loss is set aside.
            let checkpoints = work.appendingPathComponent("checkpoints")
            #expect(TrainingCheckpoint.latest(in: checkpoints)?.folder.lastPathComponent == folder.lastPathComponent)
            let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path)
            #expect(names.contains { $0.hasPrefix("nonfinite_iter_") }, "\(names)")
        }

        @Test("An absurd learning rate from the start says that no checkpoint was saved")
        func nonFiniteWithoutCheckpoint() throws {
            let dir = try EngineFixtures.temporaryFolder("nan0")
            defer { try? FileManager.default.removeItem(at: dir) }
            var config = try EngineFixtures.tinyConfig(data: EngineFixtures.synthData(in: dir, train: 6, val: 0), iterations: 40, lr: 1e12)
            config.evalInterval = 0
            let error = #expect(throws: EngineError.self) {
                try Trainer(config: config, options: EngineFixtures.trainerOptions(dir.appendingPathComponent("run")), logger: EngineFixtures.silentLogger).run()
            }
            let message = error?.message ?? ""
            #expect(message.contains("not finite") && message.contains("No good checkpoint"), "\(message)")
        }

        // MARK: - Checkpoint folders

        static func checkpointParts() throws -> (model: any SegmentationModel, optimizer: AdamW, state: TrainingCheckpoint.State) {
            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: 3)
            let optimizer = AdamW(model: model, lr: 1e-3, weightDecay: 0.01)
            let config = try TrainConfig.preset(model: "lrformer-tiny", dataset: .synth)
            let state = TrainingCheckpoint.State(iteration: 5, seed: 0, bestMIoU: nil, bestIteration: nil, optimizerMeta: [:],
                                                 config: config, classes: ["a", "b", "c"])
            return (model, optimizer, state)
        }

        @Test("Saving twice under one name replaces it and leaves no .partial or .old folder")
        func checkpointReplace() throws {
            let dir = try EngineFixtures.temporaryFolder("ckpt")
            defer { try? FileManager.default.removeItem(at: dir) }
            let (model, optimizer, state) = try Self.checkpointParts()
            try TrainingCheckpoint.save(to: dir, name: "iter_5", model: model, optimizer: optimizer, state: state)
            try EngineFixtures.constantPrediction(model, winner: 1)
            var second = state
            second.iteration = 6
            let saved = try TrainingCheckpoint.save(to: dir, name: "iter_5", model: model, optimizer: optimizer, state: second)

            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["iter_5"])
            #expect(try saved.readState().iteration == 6)
            let stored = try EngineFixtures.storedWeights(saved.folder)
            #expect(EngineFixtures.maxDifference(stored, try EngineFixtures.hostStateDict(model)) == 0)
            #expect(stored["decode_head.conv_seg.bias"]?.floatValues() == [0, 5, 0])

            // And it restores into a fresh model and optimiser.
            let (fresh, freshOptimizer, _) = try Self.checkpointParts()
            let restored = try saved.restore(model: fresh, optimizer: freshOptimizer)
            #expect(restored.classes == ["a", "b", "c"])
            #expect(EngineFixtures.maxDifference(try EngineFixtures.hostStateDict(fresh), stored) == 0)
        }

        @Test("`latest(in:)` picks the highest complete iteration")
        func latestCheckpoint() throws {
            let dir = try EngineFixtures.temporaryFolder("latest")
            defer { try? FileManager.default.removeItem(at: dir) }
            #expect(TrainingCheckpoint.latest(in: dir.appendingPathComponent("missing")) == nil)
            #expect(TrainingCheckpoint.latest(in: dir) == nil)
            let (model, optimizer, state) = try Self.checkpointParts()
            for name in ["iter_3", "iter_12", "best"] {
                try TrainingCheckpoint.save(to: dir, name: name, model: model, optimizer: optimizer, state: state)
            }
            // Incomplete (no state.json) and foreign folders are not checkpoints.
            let fm = FileManager.default
            try fm.createDirectory(at: dir.appendingPathComponent("iter_99"), withIntermediateDirectories: true)
            try Data().write(to: dir.appendingPathComponent("iter_99/model.safetensors"))
            try fm.createDirectory(at: dir.appendingPathComponent("iter_x"), withIntermediateDirectories: true)
            try fm.createDirectory(at: dir.appendingPathComponent(".iter_200.partial"), withIntermediateDirectories: true)
            #expect(TrainingCheckpoint.latest(in: dir)?.folder.lastPathComponent == "iter_12")
        }
    }
}
