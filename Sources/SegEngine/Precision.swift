import Foundation
import SegModels
import Torch
import TorchIO

/// The arithmetic a run uses: float32, or PyTorch's automatic mixed precision (autocast) in bfloat16 or float16 with
/// float32 master weights (and, for float16 training, a gradient scaler); the `-encoder` modes autocast the encoder
/// only and run the decode head in float32 (`DecodeHeadCall`).
public enum Precision: String, ConfigChoice {
    case fp32
    case bf16
    case fp16
    case bf16Encoder = "bf16-encoder"
    case fp16Encoder = "fp16-encoder"

    public static var aliases: [String: Precision] {
        ["float32": .fp32, "bfloat16": .bf16, "float16": .fp16, "fp": .fp32, "half": .fp16]
    }

    /// The autocast dtype (nil for float32).
    public var autocastDType: DType? {
        switch self {
        case .fp32: return nil
        case .bf16, .bf16Encoder: return .bfloat16
        case .fp16, .fp16Encoder: return .float16
        }
    }

    /// Whether the decode head runs in float32 while the encoder is autocast.
    public var float32Head: Bool { self == .bf16Encoder || self == .fp16Encoder }

    /// float16 training needs a gradient scaler.
    public var usesGradScaler: Bool { autocastDType == .float16 }

    /// The dtype whose official timings compare with this mode ("eager, autocast bf16" rows for bf16).
    public var dtype: DType { autocastDType ?? .float32 }

    /// Runs `body` under autocast on `device` for this precision (as it is for float32).
    public func run<R>(on device: Device, _ body: () throws -> R) rethrows -> R {
        guard let dtype = autocastDType else { return try body() }
        return try DecodeHeadCall.withFloat32Head(float32Head) { try Torch.autocast(device: device, dtype: dtype, body) }
    }
}

/// Autocast around the forward pass and loss, a gradient scaler for float16 (PyTorch's `GradScaler` semantics:
/// dynamic scale, steps with inf/NaN gradients skipped, its state kept in checkpoints). Wraps the hooks that do the
/// backward (plain, or data-parallel).
public final class MixedPrecisionHooks: TrainingHooks {
    let precision: Precision
    let device: Device
    let base: TrainingHooks
    let scaler: GradScaler?

    public init(precision: Precision, device: Device, base: TrainingHooks) {
        self.precision = precision
        self.device = device
        self.base = base
        scaler = precision.usesGradScaler ? GradScaler(device: device) : nil
    }

    public func forward<T>(_ body: () throws -> T) throws -> T {
        try base.forward { try precision.run(on: device, body) }
    }

    public func allFinite(_ local: Bool) throws -> Bool { try base.allFinite(local) }

    public func backward(_ loss: Tensor) throws {
        try base.backward(scaler.map { $0.scale(loss) } ?? loss)
    }

    /// Gradients back to their true scale before clipping.
    public func prepareStep(_ optimizer: Optimizer) throws -> Bool {
        guard try base.prepareStep(optimizer) else { return false }
        scaler?.unscale(optimizer)
        return true
    }

    /// float16: the scaler steps unless a gradient is inf or NaN, then updates its scale.
    public func step(_ optimizer: Optimizer) throws -> Bool {
        guard let scaler else { return try base.step(optimizer) }
        let stepped = scaler.step(optimizer) ?? true
        scaler.update()
        return stepped
    }

    public func finishStep(stepped: Bool) throws { try base.finishStep(stepped: stepped) }

    public func checkpointState() -> [String: Double] {
        base.checkpointState().merging(scaler?.stateDict() ?? [:]) { $1 }
    }

    public func restore(checkpointState: [String: Double]) throws {
        try base.restore(checkpointState: checkpointState)
        if let scaler, !checkpointState.isEmpty { try scaler.load(stateDict: checkpointState) }
    }
}
