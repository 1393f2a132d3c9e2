import Foundation
import Logging
import SegData
import SegModels
import Torch

/// Iteration-based training as mmsegmentation runs it: the family's loss, warm-up + poly schedule, parameter rules,
/// gradient clipping, periodic checkpoints and validation; resumes exactly. `run()` is a short sequence of stages:
/// setup (TrainingSetup), steps (TrainingStep), checkpoint policy (CheckpointPolicy), validation (Evaluator), logs
/// (TrainingLog). Mixed precision and data parallelism plug in through `hooks`.
public final class Trainer {
    public struct Options {
        public var workDir: URL
        public var resume = false
        /// Start afresh in a work dir that holds an earlier run, removing its checkpoints (otherwise refused).
        public var replaceEarlierRun = false
        /// Load these weights before training (fine-tuning; not a resume).
        public var initialWeights: URL? = nil
        /// Limit on validation images per evaluation (nil: all).
        public var evalLimit: Int? = nil
        public var quiet = false
        /// This process's place in a multi-process run (nil: one process).
        public var distributed: DistributedRun? = nil
        public init(workDir: URL) { self.workDir = workDir }
    }

    public struct Summary {
        public var iterations: Int
        public var finalLoss: Double
        public var best: (mIoU: Double, iteration: Int)?
        public var lastMetrics: SegMetrics?
        public var checkpoint: URL
        public var bestCheckpoint: URL?
        public var interrupted: Bool
    }

    public let config: TrainConfig
    public let options: Options
    public let logger: Logger
    /// Mixed precision plugs in here; in a multi-process run the data-parallel hooks do the backward.
    public var hooks: TrainingHooks? = nil

    public init(config: TrainConfig, options: Options, logger: Logger = Logger(label: "swiftseg.train")) throws {
        try config.validate()
        if let n = options.evalLimit, n <= 0 { throw EngineError("the validation image limit must be positive, got \(n)") }
        self.config = config
        self.options = options
        self.logger = logger
    }

    var checkpointDir: URL { options.workDir.appendingPathComponent("checkpoints") }

    public static func resolveDevice(_ name: String) throws -> Device {
        name == "auto" ? (Torch.cuda.isAvailable ? .cuda(0) : .cpu) : try Device.parse(name)
    }

    public func run() throws -> Summary {
        let distributed = options.distributed
        let isMain = distributed?.isMain ?? true
        if isMain && config.schedule.warmupIters >= config.iterations && config.schedule.policy != .step {
            logger.notice("note: the \(config.schedule.warmupIters)-iteration warm-up is longer than the run (\(config.iterations)); it is cut short, as mmengine does")
        }
        let setup = try TrainingSetup.prepare(config, options, logger: logger)
        defer { setup.loader.stop() }
        let base: TrainingHooks = try distributed.map { try DistributedTrainingHooks(model: setup.model, group: $0.group) }
            ?? self.hooks ?? PlainTrainingHooks()
        let hooks: TrainingHooks = config.precision == .fp32 ? base
            : MixedPrecisionHooks(precision: config.precision, device: setup.device, base: base)
        try hooks.restore(checkpointState: setup.hooksState)
        let step = TrainingStep(model: setup.model, loss: setup.family.loss,
                                lossOptions: LossOptions(ignoreIndex: config.loss.ignoreIndex, avgNonIgnore: config.loss.avgNonIgnore),
                                optimizer: setup.optimizer, schedule: config.lrSchedule, gradClipMaxNorm: config.gradClipMaxNorm,
                                hooks: hooks, device: setup.device, seed: config.seed)
        // Rank 0 writes the log, the curves and the checkpoints; the other ranks only train and evaluate their shards.
        let log = try isMain ? TrainingLog(workDir: options.workDir, iterations: config.iterations, logInterval: config.logInterval,
                                            resumeAt: options.resume ? setup.start : nil, quiet: options.quiet, logger: logger,
                                            device: setup.device) : nil
        var best = setup.best
        func state(_ iteration: Int) -> TrainingCheckpoint.State {
            TrainingCheckpoint.State(iteration: iteration, seed: config.seed, bestMIoU: best?.mIoU, bestIteration: best?.iteration,
                                     optimizerMeta: [:], hooksState: hooks.checkpointState(), config: config,
                                     classes: setup.trainSet.classes.names)
        }
        let checkpoints = CheckpointPolicy(dir: checkpointDir, interval: config.checkpointInterval, iterations: config.iterations,
                                           resumedFrom: setup.resumedFrom, start: setup.start, writes: isMain) { name, iteration in
            try TrainingCheckpoint.save(to: self.checkpointDir, name: name, model: setup.model, optimizer: setup.optimizer,
                                        state: state(iteration))
        }
        let evaluator = try setup.valSet.map { _ in
            Evaluator(settings: try EvaluationSettings.training(config), device: setup.device, workers: config.workers,
                      group: distributed?.group)
        }

        InterruptFlag.install()
        defer { InterruptFlag.uninstall() }
        var lastMetrics: SegMetrics? = nil
        var lastLoss = Double.nan
        var interrupted = false
        var iteration = setup.start
        while iteration < config.iterations {
            // Every rank stops at the same iteration, whichever of them saw Ctrl-C.
            let stop = try distributed.map { try $0.anyRank(InterruptFlag.isRaised) } ?? InterruptFlag.isRaised
            if stop {
                if isMain { logger.info("interrupted: saving a checkpoint at iteration \(iteration)") }
                try checkpoints.saveIteration(iteration)
                interrupted = true
                break
            }
            let batch = try setup.loader.next()
            let result = try step.run(batch, iteration: iteration)
            // The logged loss is the mean over ranks, so every rank takes the same decision on a non-finite one.
            let loss = try distributed.map { try $0.mean(result.loss) } ?? result.loss
            guard loss.isFinite else { throw checkpoints.nonFiniteLoss(loss, after: iteration) }
            checkpoints.lossWasFinite(after: iteration)
            iteration += 1
            lastLoss = loss
            let logged = iteration % config.logInterval == 0 || iteration == config.iterations || iteration == setup.start + 1
            let samples = try logged ? distributed.map { try $0.gather(batch.indices) } : nil
            try log?.step(iteration, of: config.iterations, start: setup.start, loss: loss, terms: result.terms,
                          lr: setup.optimizer.groups.first?.lr ?? 0, samples: samples)

            // Save before evaluating: a failing evaluation never costs the weights.
            if checkpoints.isDue(iteration) { try checkpoints.saveIteration(iteration) }
            if let evaluator, let valSet = setup.valSet, config.evalInterval > 0,
               iteration % config.evalInterval == 0 || iteration == config.iterations {
                let metrics: SegMetrics
                do {
                    metrics = try evaluator.evaluate(setup.model, dataset: valSet, limit: options.evalLimit)
                } catch {
                    let saved = try checkpoints.saveIteration(iteration)
                    throw EngineError("evaluation at iteration \(iteration) failed: \(error)\nthe training state is saved in \(saved.path); "
                        + "continue with --resume once the cause is fixed")
                }
                lastMetrics = metrics
                try log?.evaluation(iteration, metrics: metrics)
                if metrics.mIoU.isFinite && (best == nil || metrics.mIoU * 100 > best!.mIoU) {
                    best = (metrics.mIoU * 100, iteration)
                    try checkpoints.saveBest(iteration)
                }
            }
        }
        try log?.finish()
        if let c = checkpoints.last { checkpoints.prune(keeping: c) }
        // No rank leaves before rank 0 has written its last checkpoint.
        try distributed?.group.barrier()
        let bestURL = checkpointDir.appendingPathComponent("best")
        return Summary(iterations: iteration, finalLoss: lastLoss, best: best, lastMetrics: lastMetrics,
                       checkpoint: checkpoints.last ?? checkpointDir,
                       bestCheckpoint: FileManager.default.fileExists(atPath: bestURL.path) ? bestURL : nil, interrupted: interrupted)
    }
}
