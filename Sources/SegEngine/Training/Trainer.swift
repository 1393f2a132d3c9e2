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
        let model = try ModelZoo.segmentation(config.model, numClasses: trainSet.numClasses)
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
        let jsonLog = try JSONLinesLog(url: options.workDir.appendingPathComponent("log.jsonl"), truncate: !options.resume)
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
            // Keep the newest periodic checkpoint only (plus `best`).
            for n in (try? fm.contentsOfDirectory(atPath: checkpointDir.path)) ?? [] where n.hasPrefix("iter_") && n != "iter_\(iteration)" {
                try? fm.removeItem(at: checkpointDir.appendingPathComponent(n))
            }
            return c.folder
        }

        var lastCheckpoint = TrainingCheckpoint.latest(in: checkpointDir)?.folder ?? checkpointDir
        var lastMetrics: SegMetrics? = nil
        var lastLoss = Double.nan
        var interrupted = false
        var clock = Date()
        var iteration = start
        while iteration < config.iterations {
            if InterruptFlag.isRaised {
                log("interrupted: saving a checkpoint at iteration \(iteration)")
                lastCheckpoint = try save(iteration)
                interrupted = true
                break
            }
            Torch.manualSeed(UInt64(config.seed) &* 1_000_003 &+ UInt64(iteration))  // dropout / drop path
            optimizer.apply(schedule, iteration: iteration)
            let batch = try loader.next()
            let x = Tensor(batch.images, shape: [batch.batchSize, 3, batch.size.h, batch.size.w]).to(device)
            let y = Tensor(batch.labels, shape: [batch.batchSize, batch.size.h, batch.size.w]).to(device)
            let loss = segmentationLoss(logits: model.logits(x), labels: y, ignoreIndex: config.loss.ignoreIndex,
                                        avgNonIgnore: config.loss.avgNonIgnore)
            let value = loss.item()
            guard value.isFinite else {
                throw TorchError("train", "loss is \(value) at iteration \(iteration + 1); stopped. The last good checkpoint is \(lastCheckpoint.path) (resume with --resume, perhaps with a lower --lr)")
            }
            optimizer.zeroGrad()
            loss.backward()
            if let maxNorm = config.gradClipMaxNorm { clipGradNorm(optimizer.parameters, maxNorm: maxNorm) }
            optimizer.step()
            iteration += 1
            lastLoss = value

            let now = Date()
            progress.record(iteration: iteration, time: now.timeIntervalSince(clock))
            clock = now
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
                curve.add(iteration: iteration, mIoU: metrics.mIoU * 100, mAcc: metrics.mAcc * 100)
                try jsonLog.append(encoding: LogEntry(iteration: iteration, loss: nil, lr: nil, mIoU: metrics.mIoU * 100,
                                                      mAcc: metrics.mAcc * 100, aAcc: metrics.aAcc * 100))
                if best == nil || metrics.mIoU * 100 > best!.mIoU {
                    best = (metrics.mIoU * 100, iteration)
                    try TrainingCheckpoint.save(to: checkpointDir, name: "best", model: model, optimizer: optimizer, state: state(iteration))
                }
            }
            if iteration % config.checkpointInterval == 0 || iteration == config.iterations {
                lastCheckpoint = try save(iteration)
            }
            if iteration % max(1, config.logInterval) == 0 || iteration == config.iterations { try curve.write(options.workDir) }
        }
        try curve.write(options.workDir)
        let bestURL = checkpointDir.appendingPathComponent("best")
        return Summary(iterations: iteration, finalLoss: lastLoss, best: best, lastMetrics: lastMetrics, checkpoint: lastCheckpoint,
                       bestCheckpoint: fm.fileExists(atPath: bestURL.path) ? bestURL : nil, interrupted: interrupted)
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
