import ArgumentParser
import Foundation
import SegEngine
import Torch

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a segmentation model with the official recipe of its family and dataset.",
        discussion: "Every preset value can be overridden by a flag or by --config FILE (JSON or YAML, any subset of the saved config.json).")

    @Option(name: .long) var model: String
    @Option(name: .long, help: "Dataset root.") var data: String
    @Option(name: .long, help: "ade20k, cityscapes, coco-stuff, folder or synth.") var dataset: String = "ade20k"
    @Option(name: .long) var iters: Int?
    @Option(name: .long) var batch: Int?
    @Option(name: .long, help: "Crop HxW or a square side.") var crop: String?
    @Option(name: .long) var lr: Double?
    @Option(name: .long, help: "Experiment folder (config, logs, checkpoints, curves).") var workDir: String?
    @Flag(name: .long, help: "Continue from the newest checkpoint in the work dir.") var resume = false
    @Option(name: .long, help: "Initial weights to fine-tune from (not a resume).") var loadFrom: String?
    @Option(name: .long, help: "JSON or YAML file overriding the preset.") var config: String?
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.") var device: String?
    @Option(name: .long) var seed: Int?
    @Option(name: .long) var workers: Int?
    @Option(name: .long, help: "Validate every N iterations.") var evalInterval: Int?
    @Option(name: .long, help: "Use at most N validation images per evaluation.") var evalLimit: Int?

    func validate() throws {
        if let evalLimit, evalLimit <= 0 { throw ValidationError("--eval-limit must be positive") }
    }

    func run() throws {
        let cfg = try resolvedConfig()
        let workDir = URL(fileURLWithPath: self.workDir ?? "runs/\(cfg.model)-\(cfg.dataset.kind.rawValue)")
        var options = Trainer.Options(workDir: workDir)
        options.resume = resume
        options.initialWeights = try loadFrom.map { try existingPath($0, "weights") }
        options.evalLimit = evalLimit
        print("training \(cfg.model) on \(cfg.dataset.root) for \(cfg.iterations) iterations; work dir \(workDir.path)")
        let summary = try Trainer(config: cfg, options: options).run()
        if let m = summary.lastMetrics { print("last validation: " + m.summaryLine) }
        if let best = summary.best { print(String(format: "best mIoU %.2f at iteration %d", best.mIoU, best.iteration)) }
        print("checkpoint: \(summary.checkpoint.path)" + (summary.interrupted ? " (interrupted; continue with --resume)" : ""))
    }

    func resolvedConfig() throws -> TrainConfig {
        guard let kind = DatasetKind(argument: dataset) else {
            throw ValidationError("unknown dataset '\(dataset)'; expected ade20k, cityscapes, coco-stuff, folder or synth")
        }
        _ = try existingPath(data, "dataset root")
        var cfg = try TrainConfig.preset(model: model, dataset: kind)
        if let config { cfg = try cfg.merging(contentsOf: existingPath(config, "config file")) }
        cfg.dataset.root = data
        if let iters { cfg.iterations = iters }
        if let batch { cfg.batchSize = batch }
        if let crop { let (h, w) = try parseSize(crop); cfg.cropSize = Size2D(height: h, width: w) }
        if let lr { cfg.optimizer.lr = lr }
        if let device { cfg.device = device }
        if let seed { cfg.seed = seed }
        if let workers { cfg.workers = workers }
        if let evalInterval { cfg.evalInterval = evalInterval }
        try cfg.validate()
        return cfg
    }
}
