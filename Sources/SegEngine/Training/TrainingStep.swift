import Foundation
import SegData
import SegModels
import Torch

/// One optimiser step: learning rate from the schedule, forward pass and the family's loss, backward, clipping and
/// the optimiser, with the hooks where mixed precision and data parallelism plug in.
struct TrainingStep {
    let model: any SegmentationModel
    let loss: SegmentationLoss
    let lossOptions: LossOptions
    let optimizer: Optimizer
    let schedule: LRSchedule
    let gradClipMaxNorm: Double?
    let hooks: TrainingHooks
    let device: Device
    let seed: Int

    struct Result {
        var loss: Double
        var terms: [(String, Double)]
        var stepped: Bool
    }

    /// To the device: on CUDA from pinned memory without waiting (the copy overlaps the work already queued).
    func upload(_ t: Tensor) throws -> Tensor {
        guard device.isCUDA else { return t }
        return try t.checked.pinMemory().checked.to(device: device, nonBlocking: true)
    }

    /// Runs step `iteration` (0-based) on `batch`. A non-finite loss is returned without stepping: the caller decides.
    func run(_ batch: Batch, iteration: Int) throws -> Result {
        Torch.manualSeed(UInt64(seed) &* 1_000_003 &+ UInt64(iteration))  // dropout / drop path
        optimizer.apply(schedule, iteration: iteration)
        let x = try upload(Tensor(batch.images, shape: [batch.batchSize, 3, batch.size.h, batch.size.w]))
        let y = try upload(Tensor(batch.labels, shape: [batch.batchSize, batch.size.h, batch.size.w]))
        let value = try hooks.forward { try guardedForward { loss(model.trainingOutputs(x), labels: y, options: lossOptions) } }
        let total = try value.total.checked.item()
        let terms = try value.terms.map { ($0.name, try $0.value.checked.item()) }
        guard try hooks.allFinite(total.isFinite) else { return Result(loss: total.isFinite ? .nan : total, terms: terms, stepped: false) }
        optimizer.zeroGrad()
        try hooks.backward(value.total)
        var stepped = try hooks.prepareStep(optimizer)
        if stepped {
            if let maxNorm = gradClipMaxNorm { clipGradNorm(optimizer.parameters, maxNorm: maxNorm, foreach: device.isCUDA) }
            stepped = try hooks.step(optimizer)
        }
        try hooks.finishStep(stepped: stepped)
        return Result(loss: total, terms: terms, stepped: stepped)
    }
}
