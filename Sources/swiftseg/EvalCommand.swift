import ArgumentParser
import Foundation
import SegData
import SegEngine
import SegModels
import Torch
import TorchIO

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "mIoU, mAcc, aAcc and a per-class table on a validation split.",
        discussion: "By default the model's family runs its official test protocol for the dataset (resize rule, size divisor, "
            + "whole or slide inference); --json records the protocol used. Flags override single settings.")

    @Option(name: .long, help: "Model name (or a family name with a self-describing checkpoint folder).") var model: String
    @Option(name: .long, help: "Checkpoint: a training checkpoint folder, .safetensors, .pth or a Hugging Face folder.") var checkpoint: String
    @Option(name: .long, help: "Dataset root.") var data: String
    @Option(name: .long, help: "ade20k, cityscapes, coco-stuff, folder or synth (default: detected).") var dataset: DatasetKind?
    @OptionGroup var protocolOptions: TestProtocolOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(name: .long, help: "Write results JSON here (default: beside the checkpoint).") var out: String?
    @Option(name: .long, help: "Evaluate at most N images.") var limit: Int?
    @Flag(name: .long, help: "Treat label values that are not classes as ignored (255) instead of stopping.")
    var ignoreInvalidLabels = false
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var precisionOption: PrecisionOption
    @OptionGroup var inferencePath: InferencePathOption
    @Option(name: .long, help: "Evaluate with N processes on this machine, each on its share of the images.")
    var nprocPerNode: Int = 1

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        guard (1...256).contains(nprocPerNode) else { throw ValidationError("--nproc-per-node must be within 1...256") }
    }

    func run() throws {
        prepareProcessForInference(tta: protocolOptions.tta)
        if nprocPerNode > 1 {
            let status = try LocalLauncher.run(arguments: LocalLauncher.workerArguments(CommandLine.arguments, extra: []),
                                               processes: nprocPerNode)
            if status != 0 { throw ExitCode(status) }
            return
        }
        // A worker of a multi-process evaluation: its shard, the confusion matrices summed over ranks; rank 0 reports.
        var group: ProcessGroup? = nil
        if let environment = try DistributedEnvironment.detect(), environment.isDistributed {
            group = try DistributedRun.start(environment, device: try deviceOptions.resolve(), timeout: .seconds(1800)).group
        }
        let isMain = (group?.rank ?? 0) == 0
        let root = try existingPath(data, "dataset root")
        let checkpointURL = try existingPath(checkpoint, "checkpoint")
        let outURL = URL(fileURLWithPath: out ?? (checkpointURL.hasDirectoryPath || isDirectory(checkpointURL)
            ? checkpointURL.appendingPathComponent("eval.json").path : (checkpoint as NSString).deletingPathExtension + "_eval.json"))
        // Before the (long) evaluation, not after; the default beside the checkpoint is ours to replace.
        if out != nil { try checkResultFile(outURL, "--out", extension: "json", inputs: [root, checkpointURL]) }
        try checkWritable(outURL, "--out")
        let kind = try datasetKind(dataset, root: root)
        let device = try deviceOptions.resolve()
        let ds = try SegDataset.open(DataSetup.layout(kind), root: root, split: .val, mapInvalidToIgnore: ignoreInvalidLabels)
        let loaded = try ModelLoader.load(model: model, checkpoint: checkpointURL, numClasses: ds.numClasses, fallbackClasses: ds.classes,
                                          device: device)
        for note in loaded.notes where !json { print("note: \(note)") }
        var settings = try EvaluationSettings.official(model: loaded.model.name, dataset: kind)
        protocolOptions.apply(to: &settings)
        settings.precision = precisionOption.precision
        try settings.validate()
        let optimized = InferencePreparation.prepare(loaded.model, device: device, precision: settings.precision, plain: inferencePath.plain)

        var evaluator = Evaluator(settings: settings, device: device, group: group)
        let total = min(limit ?? ds.count, ds.count)
        if !json && isMain {
            print("evaluating \(loaded.model.name) on \(total) \(ds.name) images" + (group.map { " with \($0.size) processes" } ?? "")
                + ": " + settings.summary)
            print(InferencePreparation.summary(optimized: optimized))
        }
        evaluator.progress = { done, n in
            if !json && isMain && (done % 10 == 0 || done == n) { FileHandle.standardError.write(Data("\reval \(done)/\(n)".utf8)) }
        }
        let metrics = try evaluator.evaluate(loaded.model, dataset: ds, limit: total)
        try group?.shutdown()
        guard isMain else { return }
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        let data = metrics.json(classNames: ds.classes.names, protocol: settings.record)
        do {
            try checkWritable(outURL, "--out")
            try data.write(to: outURL, options: .atomic)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("cannot write the results to \(outURL.path): \(FileAccess.reason(error))")
        }
        if json {
            print(String(decoding: data, as: UTF8.self), terminator: "")
        } else {
            print(metrics.table(classNames: ds.classes.names))
            for w in metrics.warnings { print("warning: \(w)") }
            print("results written to \(outURL.path)")
        }
    }
}

func isDirectory(_ url: URL) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
}
