import ArgumentParser
import Foundation
import SegEngine
import SegModels
import Torch

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a segmentation model with the official recipe of its family and dataset.",
        discussion: "The recipe comes from the model's family for the dataset (given, or named by --config, or detected). Every value "
            + "can be overridden by --config FILE (JSON or YAML, any subset of the saved config.json) and then by flags.")

    @Option(name: .long, help: "Model name (optional when --config names one).") var model: String?
    @Option(name: .long, help: "Dataset root.") var data: String
    @Option(name: .long, help: "ade20k, cityscapes, coco-stuff, folder or synth (default: --config's, else detected).") var dataset: DatasetKind?
    // Numbers parse unconditionally, so that `--lr -1` is refused as a value ("must be positive"), not read as a flag.
    @Option(name: .long, parsing: .unconditional, help: "Optimiser steps (default: the family's recipe for the dataset).") var iters: Int?
    @Option(name: .long, parsing: .unconditional, help: "Images per optimiser step.") var batch: Int?
    @Option(name: .long, help: "Crop HxW or a square side.") var crop: Size2D?
    @Option(name: .long, parsing: .unconditional, help: "Base learning rate (config key optimizer.lr).") var lr: Double?
    @Option(name: .long, help: "Experiment folder (config, logs, checkpoints, curves).") var workDir: String?
    @Flag(name: .long, help: "Continue from the newest checkpoint in the work dir.") var resume = false
    @Flag(name: .long, help: "Start afresh in a work dir that holds an earlier run, removing its checkpoints (refused otherwise).")
    var overwrite = false
    @Option(name: .long, help: "Initial weights to fine-tune from (not a resume).") var loadFrom: String?
    @Option(name: .long, help: "JSON or YAML file overriding the preset.") var config: String?
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.") var device: DeviceChoice?
    @Option(name: .long, parsing: .unconditional, help: "Seed of the initial weights, data order and augmentation.") var seed: Int?
    @Option(name: .long, help: "fp32, autocast bf16 / fp16 (fp16 with a gradient scaler), or bf16-encoder / fp16-encoder (decode head in fp32).") var precision: Precision?
    @Option(name: .long, parsing: .unconditional, help: "Data-loading threads.") var workers: Int?
    @Option(name: .long, parsing: .unconditional, help: "Validate every N iterations (0: never).") var evalInterval: Int?
    @Option(name: .long, parsing: .unconditional, help: "Use at most N validation images per evaluation.") var evalLimit: Int?
    @Option(name: .long, help: "Start N worker processes on this machine (data-parallel; --batch is per process).")
    var nprocPerNode: Int = 1
    @Option(name: .long, help: "How workers started by another launcher find their rank: env (torchrun's variables) or slurm.")
    var launcher: WorkerLauncher?
    @Option(name: .long, help: "Seconds a collective waits for a stuck peer before failing (a dead peer fails at once).")
    var distTimeout: Int = 1800

    func validate() throws {
        if let evalLimit, evalLimit <= 0 { throw ValidationError("--eval-limit must be positive") }
        if model == nil && config == nil { throw ValidationError("give --model (or a --config file that names the model)") }
        guard (1...256).contains(nprocPerNode) else { throw ValidationError("--nproc-per-node must be within 1...256") }
        guard distTimeout > 0 else { throw ValidationError("--dist-timeout must be positive") }
        if let batch, batch <= 0 { throw ValidationError("--batch must be positive") }
        if resume && overwrite { throw ValidationError("--resume continues the earlier run, --overwrite replaces it: give one") }
    }

    func run() throws {
        if nprocPerNode > 1 {
            // The launcher: the recipe's batch is split over the workers unless --batch (per process) is given.
            var extra: [String] = []
            if batch == nil {
                let total = try resolvedConfig().batchSize
                let perProcess = max(1, total / nprocPerNode)
                print("launching \(nprocPerNode) workers, batch \(perProcess) per process (the recipe's \(total) in all)")
                extra = ["--batch", "\(perProcess)"]
            } else {
                print("launching \(nprocPerNode) workers, batch \(batch!) per process")
            }
            let status = try LocalLauncher.run(arguments: LocalLauncher.workerArguments(CommandLine.arguments, extra: extra),
                                               processes: nprocPerNode)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let environment = try DistributedEnvironment.detect(launcher: launcher?.environmentLauncher)
        guard let environment, environment.isDistributed else { return try train(distributed: nil) }
        do {
            try train(distributed: environment)
        } catch let code as ExitCode {
            throw code
        } catch {
            throw RankFailure(rank: environment.rank, error: error)
        }
    }

    func train(distributed environment: DistributedEnvironment?) throws {
        var cfg = try resolvedConfig()
        var run: DistributedRun? = nil
        if let environment {
            // One GPU per local rank; on the CPU every rank shares the cores.
            var device = try Trainer.resolveDevice(cfg.device)
            if case .cuda = device { device = .cuda(environment.localRank) }
            cfg.device = device.description
            run = try DistributedRun.start(environment, device: device, timeout: .seconds(distTimeout))
        }
        let isMain = run?.isMain ?? true
        let workDir = URL(fileURLWithPath: self.workDir ?? "runs/\(cfg.model)-\(cfg.dataset.kind.rawValue)")
        var options = Trainer.Options(workDir: workDir)
        options.resume = resume
        options.replaceEarlierRun = overwrite
        options.initialWeights = try loadFrom.map { try existingPath($0, "weights") }
        options.evalLimit = evalLimit
        options.distributed = run
        if isMain {
            print("training \(cfg.model) on \(cfg.dataset.root) (\(cfg.dataset.kind.rawValue)) for \(cfg.iterations) iterations; work dir \(workDir.path)")
        }
        var logger = cliLogger("train")
        if !isMain { logger.logLevel = .warning }  // rank 0 reports; the others only warn
        let summary = try Trainer(config: cfg, options: options, logger: logger).run()
        try run?.group.shutdown()
        guard isMain else {
            if summary.interrupted { throw ExitCode(130) }
            return
        }
        if let m = summary.lastMetrics { print("last validation: " + m.summaryLine) }
        if let best = summary.best { print(String(format: "best mIoU %.2f at iteration %d", best.mIoU, best.iteration)) }
        print("checkpoint: \(summary.checkpoint.path)" + (summary.interrupted ? " (interrupted; continue with --resume)" : ""))
        print("curves: \(workDir.appendingPathComponent("loss.svg").path), \(workDir.appendingPathComponent("miou.svg").path)")
        if summary.interrupted { throw ExitCode(130) }  // as shells expect after Ctrl-C
    }

    /// Preset of (model, dataset) -> the config file's fields -> flags. The preset is chosen from the final model and
    /// dataset: flags, else the file's, else the detected layout of --data.
    func resolvedConfig() throws -> TrainConfig {
        let root = try existingPath(data, "dataset root")
        var kind = dataset
        var cfg: TrainConfig
        if let config {
            let url = try existingPath(config, "config file")
            if kind == nil, try TrainConfig.datasetNamed(in: url) == nil { kind = try datasetKind(nil, root: root) }
            cfg = try TrainConfig.load(contentsOf: url, model: model, dataset: kind)
        } else {
            kind = try datasetKind(dataset, root: root)
            cfg = try TrainConfig.preset(model: model!, dataset: kind!)
        }
        if dataset != nil { _ = try datasetKind(dataset, root: root) }  // warns on a synthetic set read as another
        cfg.dataset.root = data
        if let iters { cfg.iterations = iters }
        if let batch { cfg.batchSize = batch }
        if let crop { cfg.cropSize = crop }
        if let lr { cfg.optimizer.lr = lr }
        if let device { cfg.device = device.description }
        if let seed { cfg.seed = seed }
        if let precision { cfg.precision = precision }
        if let workers { cfg.workers = workers }
        if let evalInterval { cfg.evalInterval = evalInterval }
        try cfg.validate()
        return cfg
    }
}

/// `--launcher`: how a worker started by an external launcher reads its rank.
enum WorkerLauncher: String, ExpressibleByArgument, CaseIterable {
    /// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT).
    case env
    /// SLURM's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of SLURM_JOB_NODELIST).
    case slurm

    var environmentLauncher: DistributedEnvironment.Launcher {
        switch self {
        case .env: return .torchrun
        case .slurm: return .slurm
        }
    }
}

/// A worker's failure, naming its rank (the launcher prints every worker's stderr).
struct RankFailure: Error, CustomStringConvertible {
    let rank: Int
    let error: Error
    var description: String { "rank \(rank): \(error)" }
}
