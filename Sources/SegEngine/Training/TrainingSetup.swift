import Foundation
import Logging
import SegData
import SegModels
import Torch
import TorchIO

/// The first stage of a run: work dir, device, data (the validation split checked up front), model and initial
/// weights, optimiser, resume state and loader.
struct TrainingSetup {
    let device: Device
    let family: ModelFamily
    let model: any SegmentationModel
    let optimizer: Optimizer
    let trainSet: SegDataset
    /// nil when evaluation is off.
    let valSet: SegDataset?
    let loader: BatchLoader
    /// The iteration to start from (the checkpoint's on resume).
    let start: Int
    let best: (mIoU: Double, iteration: Int)?
    let resumedFrom: TrainingCheckpoint?
    /// The hooks' state saved in the resumed checkpoint (the fp16 gradient scaler's).
    let hooksState: [String: Double]

    static func prepare(_ config: TrainConfig, _ options: Trainer.Options, logger: Logger) throws -> TrainingSetup {
        let distributed = options.distributed
        if distributed?.isMain ?? true {
            // Before config.json is rewritten: a resume must continue the same model, a new run must not bury an earlier one.
            if options.resume { try EarlierRun.checkResumable(options.workDir, model: config.model) }
            else { try EarlierRun.clear(options.workDir, replace: options.replaceEarlierRun) }
            try createWorkDir(options.workDir)
            try config.save(to: options.workDir.appendingPathComponent("config.json"))
        }

        let device = try Trainer.resolveDevice(config.device)
        // Fixed-size crops: let cuDNN pick its fastest algorithms once (mmseg's `cudnn_benchmark=True`).
        if device.isCUDA { Torch.cudnnBenchmark = true }
        let family = try ModelRegistry.family(of: config.model)
        if let problem = family.inputConstraints.problem(with: config.cropSize, model: config.model) {
            throw EngineError("cropSize: \(problem)")
        }
        let trainSet = try DataSetup.dataset(config, split: .train)
        // Every rank checks the split (it evaluates a shard of it); only rank 0 says so.
        let valSet = try validationSet(config, workers: config.workers, logger: logger)

        // The initial weights are a function of the seed too, so that two runs of one config are the same run.
        Torch.manualSeed(UInt64(config.seed))
        let model = try ModelRegistry.segmentation(config.model, numClasses: trainSet.numClasses)
        model.overrideStochasticRates(dropout: config.modelOverrides.dropout, dropPath: config.modelOverrides.dropPath)
        if let w = options.initialWeights {
            let load = try ModelRegistry.load(WeightsFile.read(w).tensors, into: model, modelName: config.model, strict: false,
                                              source: w.path)
            logger.info("loaded \(w.lastPathComponent) (fine-tuning, not a resume): \(load.report.summary())")
        }
        model.to(device: device).train()
        if let distributed {
            // The BatchNorms the official configs mark SyncBN (or all of them, or none, as the config says).
            let prefixes = family.syncBatchNormPrefixes
            let synced = model.useSyncBatchNorm(distributed.group) { name in
                switch config.syncBatchNorm {
                case .official: return prefixes.contains { name.hasPrefix($0) }
                case .all: return true
                case .none: return false
                }
            }
            if distributed.isMain { logger.info("data parallel over \(distributed.worldSize) processes; \(synced) BatchNorm layers synchronised") }
        }
        let optimizer = makeOptimizer(config, model: model)

        // Resume: model, optimiser, iteration, best score. Data order and dropout RNG are functions of
        // (seed, iteration), so the continuation is the run that would have happened.
        var start = 0
        var best: (mIoU: Double, iteration: Int)? = nil
        var resumedFrom: TrainingCheckpoint? = nil
        var hooksState: [String: Double] = [:]
        if options.resume {
            let dir = options.workDir.appendingPathComponent("checkpoints")
            guard let ckpt = TrainingCheckpoint.latest(in: dir) else {
                throw EngineError("--resume: no checkpoint in \(dir.path)")
            }
            let state = try ckpt.restore(model: model, optimizer: optimizer)
            hooksState = state.hooksState ?? [:]
            start = state.iteration
            if let m = state.bestMIoU, let i = state.bestIteration { best = (m, i) }
            resumedFrom = ckpt
            if distributed?.isMain ?? true { logger.info("resumed from \(ckpt.folder.path) at iteration \(start)") }
        }
        // Each rank reads its own part of every global batch (mmengine's sampler: a function of seed and iteration).
        let shard = try distributed.map { try SampleShard(rank: $0.rank, count: $0.worldSize) } ?? .whole
        let loader = try BatchLoader(dataset: trainSet, pipeline: DataSetup.trainPipeline(config), batchSize: config.batchSize,
                                     seed: UInt64(config.seed), workers: config.workers, startBatch: start, shard: shard)
        return TrainingSetup(device: device, family: family, model: model, optimizer: optimizer, trainSet: trainSet, valSet: valSet,
                             loader: loader, start: start, best: best, resumedFrom: resumedFrom, hooksState: hooksState)
    }

    /// Creates the work dir and checks that files can be written in it (an existing folder on a read-only or
    /// unwritable disk), before anything else is done.
    static func createWorkDir(_ dir: URL) throws {
        if let problem = FileAccess.prepareFolder(dir) { throw EngineError("work dir \(dir.path): \(problem)") }
    }

    /// The validation split, every sample read once (files present and decodable, label values in range), so that
    /// a broken split stops the run before it starts instead of at the first evaluation. With evaluation off, a
    /// broken or missing split is only a warning.
    static func validationSet(_ config: TrainConfig, workers: Int, logger: Logger) throws -> SegDataset? {
        guard config.evalInterval > 0 else {
            if (try? DataSetup.dataset(config, split: .val)) == nil {
                logger.warning("no usable validation split under \(config.dataset.root); evaluation is off (evalInterval 0), so training goes on")
            }
            return nil
        }
        do {
            let valSet = try DataSetup.dataset(config, split: .val)
            try DataSetup.check(valSet, workers: workers) { done, total in
                if done == total || done % 500 == 0 { logger.debug("checked \(done)/\(total) validation samples") }
            }
            return valSet
        } catch {
            throw EngineError("validation split: \(error)\n(fix the data, or train without evaluation: --eval-interval 0)")
        }
    }

    static func makeOptimizer(_ config: TrainConfig, model: Module) -> Optimizer {
        let rules = config.paramGroupRules
        // PyTorch's default: the multi-tensor (foreach) kernels when every parameter is on CUDA, else one per tensor.
        let implementation = OptimizerImplementation.defaultChoice(for: model.parameters)
        switch config.optimizer.type {
        case .adamw:
            return AdamW(model: model, lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay, rules: rules,
                         beta1: config.optimizer.betas[0], beta2: config.optimizer.betas[1], eps: config.optimizer.eps,
                         implementation: implementation)
        case .sgd:
            return SGD(model: model, lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay, rules: rules,
                       momentum: config.optimizer.momentum, implementation: implementation)
        }
    }
}
