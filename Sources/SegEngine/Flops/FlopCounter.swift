// Counts FLOPs by running a real forward pass with an OpRecorder, so every shape is the one the model
// really computes (odd sizes, aspect-preserving pooled grids), never a formula of the architecture.

import Torch
import TorchIO
import SegModels

public struct FlopCounterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

public enum FlopCounter {
    /// The largest image side accepted (a 4096 x 4096 forward already needs tens of GB on the CPU).
    public static let maxSide = 4096

    /// FLOPs of `model.logits(x)` (logits at the model's stride, no final resize) for a random input of
    /// `input` = [B, 3, H, W], in eval mode and inference mode, on the model's device and dtype.
    public static func count(model: any SegmentationModel, input: [Int]) throws -> FlopReport {
        try validate(input, channels: 3)
        return try count(module: model, name: model.name, input: input) { [model.logits($0)] }
    }

    /// FLOPs of any forward closure over `module` (e.g. `{ encoder.features($0) }` for a bare backbone).
    /// `scope` wraps the whole pass (use "backbone" so an encoder's attention is reported as the encoder's).
    public static func count(module: Module, name: String, input: [Int], scope: String? = nil,
                             forward: (Tensor) -> [Tensor]) throws -> FlopReport {
        try validate(input, channels: nil)
        let first = module.parameters.first
        let x = try Tensor.Checked.randn(input, dtype: first?.dtype ?? .float32, device: first?.device ?? .cpu)
        let wasTraining = module.isTraining
        module.eval()
        defer { module.train(wasTraining) }

        let recorder = OpRecorder()
        let outputs = recorder.record {
            Torch.inferenceMode {
                scope.map { s in OpRecorder.scope(s) { forward(x) } } ?? forward(x)
            }
        }
        return FlopReport(model: name, inputShape: input, outputShapes: outputs.map(\.shape),
                          parameters: module.parameterCount, events: recorder.events)
    }

    /// Single-output form of `count(module:name:input:scope:forward:)`.
    public static func count(module: Module, name: String, input: [Int], scope: String? = nil,
                             forward: (Tensor) -> Tensor) throws -> FlopReport {
        try count(module: module, name: name, input: input, scope: scope) { [forward($0)] }
    }

    /// Builds `name` from the model zoo and counts it at H x W (batch 1 unless given).
    public static func count(modelNamed name: String, height: Int, width: Int, numClasses: Int? = nil,
                             batch: Int = 1) throws -> FlopReport {
        try validate([batch, 3, height, width], channels: 3)
        let model = try ModelRegistry.segmentation(name, numClasses: numClasses)
        return try count(model: model, input: [batch, 3, height, width])
    }

    /// Image inputs (`channels` given) must be [B, C, H, W]; a closure's input may have any rank up to 6.
    static func validate(_ input: [Int], channels: Int?) throws {
        guard input.allSatisfy({ $0 > 0 }), (1...6).contains(input.count) else {
            throw FlopCounterError("input dimensions must be 1 to 6 positive sizes, got \(input)")
        }
        guard input.reduce(1, *) <= 64 * 3 * maxSide * maxSide else { throw FlopCounterError("input \(input) is too large to run") }
        guard let channels else { return }
        guard input.count == 4 else { throw FlopCounterError("input shape must be [B, C, H, W], got \(input)") }
        guard input[1] == channels else {
            throw FlopCounterError("segmentation models take \(channels)-channel images, got \(input[1]) channels")
        }
        guard input[0] <= 64, (32...maxSide).contains(input[2]), (32...maxSide).contains(input[3]) else {
            throw FlopCounterError("image sides must be in 32...\(maxSide) pixels (the encoders downsample 32x) and batch "
                + "at most 64, got batch \(input[0]) at \(input[2])x\(input[3])")
        }
    }
}
