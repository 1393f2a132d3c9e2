import Foundation
import Torch

/// This process's place in a multi-process run: its environment (rank, world size, rendezvous) and the process group
/// created from it. Rank 0 writes logs, curves and checkpoints; every rank trains on its own shard of each batch.
public struct DistributedRun {
    public let environment: DistributedEnvironment
    public let group: ProcessGroup

    public var rank: Int { group.rank }
    public var worldSize: Int { group.size }
    public var isMain: Bool { group.rank == 0 }

    /// Rendezvous and group creation (Gloo on the CPU, NCCL on CUDA) from the launcher's environment.
    public static func start(_ environment: DistributedEnvironment, device: Device, timeout: Duration) throws -> DistributedRun {
        do {
            let group = try ProcessGroup.initialize(environment, device: device, timeout: timeout)
            return DistributedRun(environment: environment, group: group)
        } catch {
            throw EngineError("rank \(environment.rank) of \(environment.worldSize): cannot join the process group at "
                + "\(environment.masterAddress):\(environment.masterPort): \(error)")
        }
    }

    /// The mean over ranks of a per-rank value (the loss, for the log and the finite check every rank must agree on).
    func mean(_ value: Double) throws -> Double {
        let t = Tensor([value], shape: [1])
        try group.allReduce(t, op: .sum)
        return try t.checked.item() / Double(worldSize)
    }

    /// Whether any rank asks to stop (Ctrl-C reached some of them): all ranks stop at the same iteration.
    func anyRank(_ flag: Bool) throws -> Bool {
        let t = Tensor([flag ? 1 : 0] as [Int64], shape: [1])
        try group.allReduce(t, op: .max)
        return try t.checked.item() > 0
    }

    /// Every rank's values of a small int64 list, in rank order (the sample indices of a step, for the log).
    func gather(_ values: [Int]) throws -> [[Int]] {
        let t = Tensor(values.map(Int64.init), shape: [values.count])
        return try group.allGather(t).map { try $0.checked.toArray(Int64.self).map(Int.init) }
    }
}

/// Data-parallel steps: the model's parameters come from rank 0, and each backward averages the gradients over
/// ranks in buckets as it runs (c10d's Reducer), so every rank takes the same optimiser step.
public final class DistributedTrainingHooks: TrainingHooks {
    let dataParallel: DataParallel

    public init(model: Module, group: ProcessGroup) throws {
        dataParallel = try DataParallel(model, group: group)
    }

    public func forward<T>(_ body: () throws -> T) throws -> T {
        try dataParallel.beginStep()
        return try body()
    }

    public func allFinite(_ local: Bool) throws -> Bool {
        let t = Tensor([local ? 0 : 1] as [Int64], shape: [1])
        try dataParallel.group.allReduce(t, op: .max)
        return try t.checked.item() == 0
    }

    public func backward(_ loss: Tensor) throws {
        try dataParallel.prepareBackward(loss)
        try loss.checked.backward()
    }

    public func prepareStep(_ optimizer: Optimizer) throws -> Bool { true }
    public func step(_ optimizer: Optimizer) throws -> Bool { optimizer.step(); return true }
    public func finishStep(stepped: Bool) throws {}
    public func checkpointState() -> [String: Double] { [:] }
    public func restore(checkpointState: [String: Double]) throws {}
}
