import Foundation
import Torch

/// Where mixed precision and multi-process training plug into an optimiser step. The default runs the step plainly:
/// forward, backward, step. A hooks value wraps the forward pass (autocast), scales the loss before backward and
/// unscales or all-reduces the gradients before the optimiser (gradient scaler, data parallelism), and may skip a
/// step (an inf/NaN gradient under fp16).
public protocol TrainingHooks: AnyObject {
    /// Runs the forward pass and the loss.
    func forward<T>(_ body: () throws -> T) throws -> T
    /// Whether every process's loss is finite (one process: its own), decided before any backward so that all
    /// processes step or none does.
    func allFinite(_ local: Bool) throws -> Bool
    /// Back-propagates the loss.
    func backward(_ loss: Tensor) throws
    /// After backward, before clipping (gradients unscaled here): returns false to skip this optimiser step.
    func prepareStep(_ optimizer: Optimizer) throws -> Bool
    /// The optimiser step; returns whether it ran (a gradient scaler skips steps with inf/NaN gradients).
    func step(_ optimizer: Optimizer) throws -> Bool
    /// After the optimiser step (or the skipped one).
    func finishStep(stepped: Bool) throws
    /// State to keep in checkpoints (e.g. the gradient scaler's) and to restore on resume.
    func checkpointState() -> [String: Double]
    func restore(checkpointState: [String: Double]) throws
}

/// Plain fp32 on one process.
public final class PlainTrainingHooks: TrainingHooks {
    public init() {}
    public func forward<T>(_ body: () throws -> T) throws -> T { try body() }
    public func allFinite(_ local: Bool) throws -> Bool { local }
    public func backward(_ loss: Tensor) throws { try loss.checked.backward() }
    public func prepareStep(_ optimizer: Optimizer) throws -> Bool { true }
    public func step(_ optimizer: Optimizer) throws -> Bool { optimizer.step(); return true }
    public func finishStep(stepped: Bool) throws {}
    public func checkpointState() -> [String: Double] { [:] }
    public func restore(checkpointState: [String: Double]) throws {}
}
