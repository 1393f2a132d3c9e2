import Foundation
import SegData
import SegModels
import Torch

/// Iteration-based training as mmsegmentation runs it: warm-up + poly schedule, parameter rules,
/// gradient clipping, periodic validation and atomic checkpoints; resumes exactly.
public final class Trainer {
    public struct Options {
        public var workDir: URL
        public var resume = false
        /// Load these weights before training (fine-tuning; not a resume).
        public var initialWeights: URL? = nil
        /// Limit on validation images per evaluation (nil: all).
        public var evalLimit: Int? = nil
        public var quiet = false
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
    let log: (String) -> Void

    public init(config: TrainConfig, options: Options, log: @escaping (String) -> Void = { print($0) }) throws {
        try config.validate()
        if let n = options.evalLimit, n <= 0 { throw TorchError("train", "the validation image limit must be positive, got \(n)") }
        self.config = config
        self.options = options
        self.log = log
    }

    var checkpointDir: URL { options.workDir.appendingPathComponent("checkpoints") }

    public static func resolveDevice(_ name: String) throws -> Device {
        name == "auto" ? (Torch.cuda.isAvailable ? .cuda(0) : .cpu) : try Device.parse(name)
    }

    public func run() throws -> Summary {
        let fm = FileManager.default
        try fm.createDirectory(at: options.workDir, withIntermediateDirectories: true)
        try config.save(to: options.workDir.appendingPathComponent("config.json"))

        let device = try Self.resolveDevice(config.device)
        let trainSet = try DataSetup.dataset(config, split: .train)
        let valSet = try? DataSetup.dataset(config, split: .val)
        // The initial weights are a function of the seed too, so that two runs of one config are the same run.
        Torch.manualSeed(UInt64(config.seed))
        let model = try ModelRegistry.segmentation(config.model, numClasses: trainSet.numClasses)
        let loss = try ModelRegistry.family(of: config.model).loss
        let lossOptions = LossOptions(ignoreIndex: config.loss.ignoreIndex, avgNonIgnore: config.loss.avgNonIgnore)
        if let w = options.initialWeights {
            let report = try model.load(stateDict: WeightsFile.read(w).tensors, strict: false)
            log("loaded \(w.lastPathComponent): \(report)")
        }
        model.to(device: device).train()

        let rules = config.paramGroupRules
        let optimizer: Optimizer
        switch config.optimizer.type {
        case .adamw:
            optimizer = AdamW(model: model, lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay, rules: rules,
                              beta1: config.optimizer.betas[0], beta2: config.optimizer.betas[1], eps: config.optimizer.eps)
        case .sgd:
            optimizer = SGD(model: model, lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay, rules: rules,
                            momentum: config.optimizer.momentum)
        }

        // Resume: model, optimiser, iteration, best score. Data order and dropout RNG are functions of
        // (seed, iteration), so the continuation is the run that would have happened.
        var start = 0
        var best: (mIoU: Double, iteration: Int)? = nil
        if options.resume {
            guard let ckpt = TrainingCheckpoint.latest(in: checkpointDir) else {
                throw TorchError("resume", "no checkpoint in \(checkpointDir.path)")
            }
            let state = try ckpt.restore(model: model, optimizer: optimizer)
            start = state.iteration
            if let m = state.bestMIoU, let i = state.bestIteration { best = (m, i) }
            log("resumed from \(ckpt.folder.path) at iteration \(start)")
        }

        let schedule = config.lrSchedule
        let loader = try BatchLoader(dataset: trainSet, pipeline: DataSetup.trainPipeline(config), batchSize: config.batchSize,
                                     seed: UInt64(config.seed), workers: config.workers, startBatch: start)
        defer { loader.stop() }
        let logURL = options.workDir.appendingPathComponent("log.jsonl")
        if options.resume { try Self.trimLog(logURL, after: start) }
        let jsonLog = try JSONLinesLog(url: logURL, truncate: !options.resume)
        var progress = ProgressLine(totalIterations: config.iterations)
        var curve = Curves.load(options.workDir) ?? Curves()
        curve.trim(after: start)

        InterruptFlag.install()
        defer { InterruptFlag.uninstall() }

        func state(_ iteration: Int) -> TrainingCheckpoint.State {
            TrainingCheckpoint.State(iteration: iteration, seed: config.seed, bestMIoU: best?.mIoU, bestIteration: best?.iteration,
                                     optimizerMeta: [:], config: config, classes: trainSet.classes.names)
        }
        func save(_ iteration: Int) throws -> URL {
            let c = try TrainingCheckpoint.save(to: checkpointDir, name: "iter_\(iteration)", model: model, optimizer: optimizer,
                                                state: state(iteration))
            return c.folder
        }
        // Only the newest periodic checkpoint is kept (plus `best`), but the one before it goes only once the
        // newest has given a finite loss: a blow-up never leaves just the checkpoint of the weights that caused it.
        func prune(keeping keep: URL) {
            for n in (try? fm.contentsOfDirectory(atPath: checkpointDir.path)) ?? [] where n.hasPrefix("iter_") && n != keep.lastPathComponent {
                try? fm.removeItem(at: checkpointDir.appendingPathComponent(n))
            }
        }
        // The newest checkpoint this run saved (or resumed from), and the newest that has given a finite loss.
        var lastCheckpoint = options.resume ? TrainingCheckpoint.latest(in: checkpointDir)?.folder : nil
        var lastCheckpointIteration = start
        var goodCheckpoint: URL? = nil
        // The loss from the weights after `iteration` steps is not finite. A checkpoint of exactly those weights
        // is set aside (`nonfinite_iter_N`), so that the message and `--resume` point at the one before.
        func nonFiniteLoss(_ value: Double, after iteration: Int) -> TorchError {
            var note = ""
            if let bad = lastCheckpoint, lastCheckpointIteration == iteration {
                let aside = checkpointDir.appendingPathComponent("nonfinite_" + bad.lastPathComponent)
                try? fm.removeItem(at: aside)
                if (try? fm.moveItem(at: bad, to: aside)) != nil {
                    note = " \(bad.lastPathComponent) holds the weights that gave this loss and was moved to \(aside.path)."
                }
            }
            let next = goodCheckpoint.map {
                "The last good checkpoint is \($0.path) (resume with --resume, perhaps with a lower --lr)."
            } ?? "No good checkpoint was saved before it in \(checkpointDir.path); start again with a lower --lr."
            return TorchError("train", "loss is not finite (\(value)) at iteration \(iteration + 1); stopped." + note + " " + next)
        }

        var lastMetrics: SegMetrics? = nil
        var lastLoss = Double.nan
        var interrupted = false
        let started = Date()
        var iteration = start
        while iteration < config.iterations {
            if InterruptFlag.isRaised {
                log("interrupted: saving a checkpoint at iteration \(iteration)")
                lastCheckpoint = try save(iteration)
                lastCheckpointIteration = iteration
                interrupted = true
                break
            }
            Torch.manualSeed(UInt64(config.seed) &* 1_000_003 &+ UInt64(iteration))  // dropout / drop path
            optimizer.apply(schedule, iteration: iteration)
            let batch = try loader.next()
            let x = Tensor(batch.images, shape: [batch.batchSize, 3, batch.size.h, batch.size.w]).to(device)
            let y = Tensor(batch.labels, shape: [batch.batchSize, batch.size.h, batch.size.w]).to(device)
            // The family's loss on what the model gives for training (per-pixel logits or mask predictions).
            let total = loss(model.trainingOutputs(x), labels: y, options: lossOptions).total
            let value = total.item()
            guard value.isFinite else { throw nonFiniteLoss(value, after: iteration) }
            if let c = lastCheckpoint, lastCheckpointIteration == iteration {
                goodCheckpoint = c
                prune(keeping: c)
            }
            optimizer.zeroGrad()
            total.backward()
            if let maxNorm = config.gradClipMaxNorm { clipGradNorm(optimizer.parameters, maxNorm: maxNorm) }
            optimizer.step()
            iteration += 1
            lastLoss = value

            progress.record(iteration: iteration, time: Date().timeIntervalSince(started))  // seconds since the start
            let lr = optimizer.groups.first?.lr ?? 0
            curve.add(iteration: iteration, loss: value, lr: lr)
            if iteration % config.logInterval == 0 || iteration == config.iterations || iteration == start + 1 {
                if !options.quiet { log(progress.line(iteration: iteration, loss: value, lr: lr)) }
                try jsonLog.append(encoding: LogEntry(iteration: iteration, loss: value, lr: lr, mIoU: nil, mAcc: nil, aAcc: nil))
            }
            let evalDue = config.evalInterval > 0 && (iteration % config.evalInterval == 0 || iteration == config.iterations)
            if evalDue, let valSet {
                let metrics = try Evaluator(mode: evaluationMode, device: device, workers: config.workers)
                    .evaluate(model, dataset: valSet, pipeline: DataSetup.testPipeline(config), limit: options.evalLimit)
                model.train()
                lastMetrics = metrics
                log("iter \(iteration): " + metrics.summaryLine)
                for w in metrics.warnings { log("warning: \(w)") }
                // NaN scores (no labelled pixel in the validation images) are logged as null and never "best".
                let percent = { (x: Double) -> Double? in x.isFinite ? x * 100 : nil }
                if metrics.mIoU.isFinite { curve.add(iteration: iteration, mIoU: metrics.mIoU * 100, mAcc: metrics.mAcc * 100) }
                try jsonLog.append(encoding: LogEntry(iteration: iteration, loss: nil, lr: nil, mIoU: percent(metrics.mIoU),
                                                      mAcc: percent(metrics.mAcc), aAcc: percent(metrics.aAcc)))
                if metrics.mIoU.isFinite && (best == nil || metrics.mIoU * 100 > best!.mIoU) {
                    best = (metrics.mIoU * 100, iteration)
                    try TrainingCheckpoint.save(to: checkpointDir, name: "best", model: model, optimizer: optimizer, state: state(iteration))
                }
            }
            if iteration % config.checkpointInterval == 0 || iteration == config.iterations {
                lastCheckpoint = try save(iteration)
                lastCheckpointIteration = iteration
            }
            if iteration % max(1, config.logInterval) == 0 || iteration == config.iterations { try curve.write(options.workDir) }
        }
        try curve.write(options.workDir)
        if let c = lastCheckpoint { prune(keeping: c) }
        let bestURL = checkpointDir.appendingPathComponent("best")
        return Summary(iterations: iteration, finalLoss: lastLoss, best: best, lastMetrics: lastMetrics,
                       checkpoint: lastCheckpoint ?? checkpointDir,
                       bestCheckpoint: fm.fileExists(atPath: bestURL.path) ? bestURL : nil, interrupted: interrupted)
    }

    /// Drops the log lines of iterations after `iteration` (written by a run that went on past its last
    /// checkpoint before it stopped), so that a resumed run logs every iteration once.
    static func trimLog(_ url: URL, after iteration: Int) throws {
        struct Entry: Decodable { var iteration: Int? }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let i = (try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)))?.iteration else { return true }
            return i <= iteration
        }
        try kept.map { $0 + "\n" }.joined().write(to: url, atomically: true, encoding: .utf8)
    }

    var evaluationMode: InferenceMode {
        switch config.test.mode {
        case .whole: return .whole
        case .slide:
            return .slide(crop: (config.test.slideCrop.height, config.test.slideCrop.width),
                          stride: (config.test.slideStride.height, config.test.slideStride.width))
        }
    }
}

struct LogEntry: Encodable {
    var iteration: Int
    var loss: Double?
    var lr: Double?
    var mIoU: Double?
    var mAcc: Double?
    var aAcc: Double?
}
