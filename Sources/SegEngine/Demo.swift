import Foundation
import Logging
import SegData
import SegModels
import Torch

/// The built-in end-to-end run: synthetic data -> training the demo model -> evaluation -> predictions,
/// overlays and curves, all under one work dir.
public enum Demo {
    public struct Options {
        public var workDir: URL
        public var iterations = 300
        public var trainImages = 96
        public var valImages = 16
        public var size = 96
        public var batch = 4
        public var lr = 2e-3
        public var model = ModelRegistry.demoModel
        public var device = "auto"
        public var seed = 0
        /// The default run, sized for a laptop.
        public init(workDir: URL) { self.workDir = workDir }

        /// The longer run: LRFormer-T, more and larger images, 600 iterations.
        public static func full(workDir: URL) -> Options {
            var o = Options(workDir: workDir)
            o.model = ModelRegistry.fullDemoModel
            o.iterations = 600
            o.trainImages = 160
            o.valImages = 24
            o.size = 128
            o.batch = 4
            o.lr = 1e-3
            return o
        }
    }

    public struct Result {
        public var metrics: SegMetrics
        public var files: [(String, URL)]
    }

    public static func config(_ o: Options, dataRoot: URL) throws -> TrainConfig {
        var cfg = try TrainConfig.preset(model: o.model, dataset: .synth)
        cfg.dataset.root = dataRoot.path
        cfg.iterations = o.iterations
        cfg.batchSize = o.batch
        cfg.cropSize = Size2D(height: o.size, width: o.size)
        // Trained from scratch (no ImageNet weights here), so a higher lr than the fine-tuning recipe's 6e-5.
        cfg.optimizer.lr = o.lr
        cfg.schedule.warmupIters = min(50, o.iterations / 10)
        cfg.augmentation.scale = ResizeScale(longSide: 4 * o.size, shortSide: o.size)
        cfg.test.scale = ResizeScale(longSide: 4 * o.size, shortSide: o.size)
        cfg.evalInterval = max(1, o.iterations / 4)
        cfg.checkpointInterval = max(1, o.iterations / 2)
        cfg.logInterval = 10
        cfg.workers = 2
        cfg.device = o.device
        cfg.seed = o.seed
        return cfg
    }

    public static func run(_ o: Options, logger: Logger = Logger(label: "swiftseg.demo")) throws -> Result {
        let log = { (message: String) in logger.info("\(message)") }
        let fm = FileManager.default
        try fm.createDirectory(at: o.workDir, withIntermediateDirectories: true)
        // The demo replaces its own earlier run in the work dir, never a training run on real data.
        let earlierConfig = try? JSONDecoder().decode(TrainConfig.self, from: Data(contentsOf: o.workDir.appendingPathComponent("config.json")))
        if !EarlierRun.files(in: o.workDir).isEmpty, earlierConfig?.dataset.kind != .synth {
            throw EngineError("\(o.workDir.path) holds a training run that is not a demo's: give the demo another --work-dir")
        }
        // One folder per data set shape, so that a run with other sizes never reuses images of the wrong size.
        let dataRoot = o.workDir.appendingPathComponent("data-\(o.size)px-\(o.trainImages)+\(o.valImages)-seed\(o.seed)")
        if !fm.fileExists(atPath: dataRoot.appendingPathComponent(SynthDataset.classesFileName).path) {
            log("1/4 generating a synthetic dataset (\(o.trainImages) train + \(o.valImages) val, \(o.size)x\(o.size), 8 classes) in \(dataRoot.path)")
            try? fm.removeItem(at: dataRoot)  // what an interrupted generation left (the folder's name is the demo's own)
            try SynthDataset.generate(to: dataRoot, train: o.trainImages, val: o.valImages, size: (o.size, o.size), seed: UInt64(o.seed))
        } else {
            log("1/4 reusing the synthetic dataset in \(dataRoot.path)")
        }

        let cfg = try config(o, dataRoot: dataRoot)
        log("2/4 training \(o.model) for \(o.iterations) iterations (batch \(o.batch), crop \(o.size), lr \(o.lr)) on \(try Trainer.resolveDevice(o.device))")
        var trainerOptions = Trainer.Options(workDir: o.workDir)
        trainerOptions.replaceEarlierRun = true  // the demo's own folder: a rerun replaces the previous demo
        let summary = try Trainer(config: cfg, options: trainerOptions, logger: logger).run()

        log("3/4 evaluating the final model on the validation split")
        let valSet = try DataSetup.dataset(cfg, split: .val)
        let checkpoint = summary.checkpoint
        let loaded = try ModelLoader.load(model: o.model, checkpoint: checkpoint, numClasses: valSet.numClasses,
                                          fallbackClasses: valSet.classes, device: try Trainer.resolveDevice(o.device))
        let settings = try EvaluationSettings.training(cfg)
        let metrics = try Evaluator(settings: settings, device: try Trainer.resolveDevice(o.device)).evaluate(loaded.model, dataset: valSet)
        log(metrics.table(classNames: valSet.classes.names))
        let resultsURL = o.workDir.appendingPathComponent("eval.json")
        try metrics.json(classNames: valSet.classes.names).writeAtomically(to: resultsURL)

        log("4/4 writing predictions and overlays for 8 validation images")
        let predictions = o.workDir.appendingPathComponent("predictions")
        let predictor = Predictor(loaded: loaded, settings: settings, device: try Trainer.resolveDevice(o.device))
        let report = try predictor.run(inputs: Array(valSet.samples.prefix(8).map { $0.image }), outputDir: predictions, overlay: true,
                                       opacity: 0.5)
        if let failure = report.failures.first { throw failure.error }

        let files: [(String, URL)] = [
            ("dataset", dataRoot), ("config", o.workDir.appendingPathComponent("config.json")),
            ("training log", o.workDir.appendingPathComponent("log.jsonl")), ("loss curve", o.workDir.appendingPathComponent("loss.svg")),
            ("mIoU curve", o.workDir.appendingPathComponent("miou.svg")), ("checkpoint", checkpoint),
            ("evaluation", resultsURL), ("predictions + overlays", predictions),
        ]
        return Result(metrics: metrics, files: files)
    }
}
