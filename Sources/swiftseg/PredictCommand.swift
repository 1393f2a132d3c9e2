import ArgumentParser
import Foundation
import SegData
import SegEngine
import SegModels
import Torch

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Segment an image or a folder: palette label PNGs and colour overlays, any image size.",
        discussion: "Runs the family's official test protocol (for the dataset the checkpoint was trained on, or --dataset). "
            + "Inputs are never overwritten; an unreadable image is reported and skipped, and the exit status is 1 if any failed.")

    @Option(name: .long, help: "Model name; a family name with a self-describing checkpoint folder (Hugging Face config.json) reads the variant from the folder.")
    var model: String
    @Option(name: .long, help: "Checkpoint: a training checkpoint folder, .safetensors, .pth or a Hugging Face folder.") var checkpoint: String
    @Option(name: .long, help: "Image file or folder.") var input: String
    @Option(name: .long, help: "Output folder.") var out: String
    @Flag(name: .long, help: "Also segment the images in the input folder's subfolders (Cityscapes' city folders, say); the outputs repeat the subfolders below --out, which is itself skipped.")
    var recursive = false
    @Flag(name: .long, help: "Also write colour overlays.") var overlay = false
    @Option(name: .long) var opacity: Double = 0.5
    @Option(name: .long, help: "Whose test protocol to use (default: the checkpoint's training data set, else ade20k).") var dataset: DatasetKind?
    @OptionGroup var protocolOptions: TestProtocolOptions
    @Option(name: .long) var numClasses: Int?
    @Flag(name: .long, help: "Stop at the first image that fails instead of going on.") var stopOnError = false
    @Flag(name: .long, help: "Print images per second and the share of time spent in the model.") var profile = false
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var precisionOption: PrecisionOption
    @OptionGroup var inferencePath: InferencePathOption

    func validate() throws {
        guard (0...1).contains(opacity) else { throw ValidationError("--opacity must be within 0...1") }
        if let numClasses, numClasses <= 0 { throw ValidationError("--num-classes must be positive") }
    }

    func run() throws {
        prepareProcessForInference(tta: protocolOptions.tta)
        let inputURL = try existingPath(input, "input"), outURL = URL(fileURLWithPath: out)
        let inputs = try Predictor.inputs(inputURL, recursive: recursive, excluding: outURL)
        // A recursive run repeats the input folder's subfolders below --out and names images by their path in it.
        let root = recursive ? inputURL : nil
        let shown = { (url: URL) in (root.map { Predictor.subfolders(of: url, under: $0) } ?? []).map { $0 + "/" }.joined() + url.lastPathComponent }
        let device = try deviceOptions.resolve()
        let checkpointURL = try existingPath(checkpoint, "checkpoint")
        let loaded = try ModelLoader.load(model: model, checkpoint: checkpointURL, numClasses: numClasses, device: device)
        print("\(loaded.model.name): \(loaded.classNames.count) classes (\(loaded.classSource))")
        for note in loaded.notes { print("note: \(note)") }
        let kind = dataset ?? ModelLoader.trainingDataset(of: checkpointURL) ?? .ade20k
        var settings = try EvaluationSettings.official(model: loaded.model.name, dataset: kind)
        protocolOptions.apply(to: &settings)
        settings.precision = precisionOption.precision
        try settings.validate()
        let optimized = InferencePreparation.prepare(loaded.model, device: device, precision: settings.precision, plain: inferencePath.plain)
        print("test protocol (\(kind.rawValue)): " + settings.summary)
        print(InferencePreparation.summary(optimized: optimized))
        let predictor = Predictor(loaded: loaded, settings: settings, device: device)
        let report = try predictor.run(inputs: inputs, outputDir: outURL, overlay: overlay, opacity: opacity,
                                       stopOnError: stopOnError, root: root) { i, n, url, error in
            if let error { print("[\(i)/\(n)] \(shown(url)): FAILED: \(error)") } else { print("[\(i)/\(n)] \(shown(url))") }
        }
        print("wrote \(report.written.count) file\(report.written.count == 1 ? "" : "s") to \(out)")
        if profile {
            // The resident set's high-water mark of this process image (reset at exec, unlike a parent's wait4
            // figure, which includes the parent's memory when it spawned this process).
            let peak = MemoryProbe.processPeak(device: .cpu).map { String(format: ", peak RSS %.0f MiB", Double($0) / 1_048_576) } ?? ""
            print(String(format: "%d images in %.2f s: %.2f images/s, %.0f%% of the time in the model",
                         report.images, report.wallSeconds, report.imagesPerSecond, report.modelShare * 100) + peak)
        }
        if !report.failures.isEmpty {
            printWarning("\(report.failures.count) of \(inputs.count) images failed:\n"
                + report.failures.map { failure in
                    // File errors name their file already; the others (a model's size limit, say) do not.
                    let message = "\(failure.error)"
                    return message.hasPrefix(failure.input.path) ? "  \(message)" : "  \(failure.input.path): \(message)"
                }.joined(separator: "\n"))
            throw ExitCode(1)
        }
    }
}
