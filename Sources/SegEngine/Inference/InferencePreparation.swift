// Which forward pass inference runs: the model optimized for the CPU, or the plain one.

import SegModels
import Torch

public enum InferencePreparation {
    /// Optimizes `model` for CPU inference (BatchNorm folded into convolutions, oneDNN-prepacked weights with fused
    /// bias, activation and residual additions, channels-last activations) when it runs in float32 on the CPU and
    /// `plain` is false. Outputs equal the plain forward's within 1e-4 relative (InferenceOptimizationParityTests,
    /// every family). Returns whether the model now runs optimized; autocast and CUDA keep the plain forward.
    @discardableResult
    public static func prepare(_ model: any SegmentationModel, device: Device, precision: Precision, plain: Bool = false) -> Bool {
        guard !plain, device == .cpu, precision == .fp32 else { return false }
        return model.optimizeForInference()
    }

    /// One line for the user: which forward pass runs.
    public static func summary(optimized: Bool) -> String {
        optimized ? "forward: optimized for the CPU (folded BatchNorm, oneDNN-packed weights; --plain for the plain forward)"
            : "forward: plain"
    }
}
