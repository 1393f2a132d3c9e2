import ArgumentParser
import Foundation
import SegData
import SegEngine
import Torch

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Segment an image or a folder: palette label PNGs and colour overlays.")

    @Option(name: .long, help: "Model name; `segformer` with a Hugging Face checkpoint folder reads the variant from its config.json.") var model: String
    @Option(name: .long, help: "Checkpoint: a training checkpoint folder, .safetensors, .pth or a Hugging Face folder.") var checkpoint: String
    @Option(name: .long, help: "Image file or folder.") var input: String
    @Option(name: .long, help: "Output folder.") var out: String
    @Flag(name: .long, help: "Also write colour overlays.") var overlay = false
    @Option(name: .long) var opacity: Double = 0.5
    @Option(name: .long, help: "Test short side (AlignResize).") var shortSide: Int = 512
    @Option(name: .long) var numClasses: Int?
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard (0...1).contains(opacity) else { throw ValidationError("--opacity must be within 0...1") }
        guard shortSide >= 32 else { throw ValidationError("--short-side must be at least 32") }
    }

    func run() throws {
        let inputs = try Predictor.inputs(existingPath(input, "input"))
        let device = try deviceOptions.resolve()
        let loaded = try ModelLoader.load(model: model, checkpoint: existingPath(checkpoint, "checkpoint"), numClasses: numClasses,
                                          device: device)
        print("\(loaded.classNames.count) classes (\(loaded.classSource))")
        let predictor = Predictor(loaded: loaded, pipeline: TestPipeline(resize: AlignResize(scale: (4 * shortSide, shortSide))), device: device)
        try predictor.run(inputs: inputs, outputDir: URL(fileURLWithPath: out), overlay: overlay, opacity: opacity) { i, n, url in
            print("[\(i)/\(n)] \(url.lastPathComponent)")
        }
        print("wrote predictions to \(out)")
    }
}
