import ArgumentParser
import Foundation
import SegEngine
import SegModels
import Torch
import TorchIO

/// Runs a model on a stored tensor and writes every intermediate output: for checking a weight conversion
/// against the official implementation.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Run a model (eval mode) on the tensor `input` of a safetensors file; write stage outputs and logits.")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Weights: .safetensors, .pth, or a checkpoint folder.") var weights: String
    @Option(name: .long, help: "safetensors file with a tensor named `input` (B,3,H,W).") var input: String
    @Option(name: .long, help: "Output safetensors file.") var output: String
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var precisionOption: PrecisionOption

    func run() throws {
        let weightsURL = try existingPath(weights, "weights")
        let inputURL = try existingPath(input, "input")
        let outputURL = URL(fileURLWithPath: output)
        try checkResultFile(outputURL, "--output", extension: "safetensors", inputs: [weightsURL, inputURL])
        let device = try deviceOptions.resolve()
        let model = try ModelRegistry.build(options.model, numClasses: options.numClasses)
        guard let parity = model as? IntermediateOutputs else {
            throw CLIError("\(options.model) does not expose intermediate outputs")
        }
        let load = try ModelRegistry.load(WeightsFile.read(weightsURL).tensors, into: model, modelName: options.model, strict: true,
                                          source: weightsURL.path)
        if let map = load.keyMap { print("note: converted from the \(map) layout") }
        model.eval().to(device: device)

        guard let host = try SafeTensors.read(inputURL)["input"] else {
            throw CLIError("\(input) has no tensor named `input`")
        }
        guard host.shape.count == 4, host.shape[1] == 3, host.shape[0] >= 1 else {
            throw CLIError("`input` must be B,3,H,W, got \(host.shape)")
        }
        if let problem = try ModelRegistry.family(of: options.model).inputConstraints.problem(with: Size2D(host.shape[2], host.shape[3]),
                                                                                               model: options.model) {
            throw CLIError("`input`: \(problem)")
        }
        let x = try Tensor(host: host).checked.to(dtype: .float32, device: device)
        // float32 means float32 on a GPU too: TF32 matmuls and convolutions would miss the 1e-4 parity.
        if device.isCUDA && precisionOption.precision == .fp32 { Torch.tf32 = .init(matmul: false, conv: false) }
        let outputs = try Torch.catchingOutOfMemory {
            Torch.inferenceMode { precisionOption.precision.run(on: device) { parity.forwardAll(x) } }
        }
        var dict = HostTensorDict()
        for key in outputs.keys.sorted() {
            dict[key] = try outputs[key]!.checked.to(dtype: .float32, device: .cpu).host()
        }
        try SafeTensors.write(dict, metadata: ["model": options.model], to: outputURL)
        for key in dict.keys { print("\(key): \(dict[key]!.shape)") }
    }
}
