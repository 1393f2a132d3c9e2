import ArgumentParser
import Foundation
import SegData
import SegEngine
import Torch

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "mIoU, mAcc, aAcc and a per-class table on a validation split.")

    @Option(name: .long) var model: String
    @Option(name: .long, help: "Checkpoint: a training checkpoint folder, .safetensors or .pth.") var checkpoint: String
    @Option(name: .long, help: "Dataset root.") var data: String
    @Option(name: .long, help: "ade20k, cityscapes, coco-stuff, folder or synth (default: detected).") var dataset: String?
    @Option(name: .long, help: "whole or slide.") var mode: String = "whole"
    @Option(name: .long, help: "Slide crop HxW.") var crop: String = "512"
    @Option(name: .long, help: "Slide stride HxW.") var stride: String = "341"
    @Option(name: .long, help: "Test short side (AlignResize).") var shortSide: Int = 512
    @Flag(name: .long, help: "Multi-scale (0.5-1.75) + flip test-time augmentation.") var tta = false
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(name: .long, help: "Write results JSON here (default: beside the checkpoint).") var out: String?
    @Option(name: .long) var limit: Int?
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard mode == "whole" || mode == "slide" else { throw ValidationError("--mode must be whole or slide") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        guard shortSide >= 32 else { throw ValidationError("--short-side must be at least 32") }
    }

    func run() throws {
        let root = try existingPath(data, "dataset root")
        let layout = try dataset.map { name -> DatasetLayout in
            guard let kind = DatasetKind(argument: name) else { throw ValidationError("unknown dataset '\(name)'") }
            return DataSetup.layout(kind)
        }
        let device = try deviceOptions.resolve()
        let ds = try SegDataset.open(layout, root: root, split: .val)
        let loaded = try ModelLoader.load(model: model, checkpoint: existingPath(checkpoint, "checkpoint"),
                                          numClasses: ds.numClasses, fallbackClasses: ds.classes, device: device)
        var evaluator = Evaluator(device: device)
        if mode == "slide" {
            let c = try parseSize(crop), s = try parseSize(stride)
            evaluator.mode = .slide(crop: (c.0, c.1), stride: (s.0, s.1))
        }
        if tta { evaluator.tta = TestTimeAugmentation(scale: (4 * shortSide, shortSide)) }
        let total = min(limit ?? ds.count, ds.count)
        evaluator.progress = { done, n in
            if !json && (done % 10 == 0 || done == n) { FileHandle.standardError.write(Data("\reval \(done)/\(n)".utf8)) }
        }
        let pipeline = TestPipeline(resize: AlignResize(scale: (4 * shortSide, shortSide), sizeDivisor: 32))
        let metrics = try evaluator.evaluate(loaded.model, dataset: ds, pipeline: pipeline, limit: total)
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        let data = metrics.json(classNames: ds.classes.names)
        let outURL = URL(fileURLWithPath: out ?? (checkpoint as NSString).deletingPathExtension + "_eval.json")
        try data.write(to: outURL, options: .atomic)
        if json {
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(metrics.table(classNames: ds.classes.names))
            for w in metrics.warnings { print("warning: \(w)") }
            print("results written to \(outURL.path)")
        }
    }
}

extension DatasetKind {
    init?(argument: String) {
        let key = argument.lowercased()
        if let k = DatasetKind(rawValue: key) { self = k } else if let k = DatasetKind.aliases[key] { self = k } else { return nil }
    }
}
