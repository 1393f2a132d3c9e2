// One rank of the distributed tests (Tests/TorchTests/DistributedTests.swift starts two). The rank
// comes from torchrun's variables; SWIFTSEG_DIST_SCENARIO picks what to run and SWIFTSEG_DIST_OUT the
// folder for rank<r>.json. Each scenario records the distributed result next to the single-process
// result on the whole batch (plain layers, no collectives), for the test to compare.
import Foundation
import Torch

struct Report: Codable {
    var values: [String: [Double]] = [:]
    var texts: [String: String] = [:]
}

var report = Report()
let env = ProcessInfo.processInfo.environment
let scenario = env["SWIFTSEG_DIST_SCENARIO"] ?? "collectives"
let outDir = URL(fileURLWithPath: env["SWIFTSEG_DIST_OUT"] ?? ".")

func record(_ name: String, _ t: Tensor) {
    report.values[name] = t.to(dtype: .float64).contiguous().toArray(Double.self)
}

func write(rank: Int) throws {
    let data = try JSONEncoder().encode(report)
    try data.write(to: outDir.appendingPathComponent("rank\(rank).json"))
}

/// Runs `body`, recording how long it took and what it threw.
func timed(_ name: String, _ body: () throws -> Void) {
    let start = Date()
    do {
        try body()
        report.texts[name] = "no error"
    } catch {
        report.texts[name] = "\(error)"
    }
    report.values[name + ".seconds"] = [Date().timeIntervalSince(start)]
}

/// conv-relu-conv-pool-linear: a small model with several parameter tensors (several buckets).
/// `aux` is a head that the forward pass never uses (DDP's find_unused_parameters case).
final class SmallNet: Module {
    let conv1 = Conv2d(3, 8, kernel: 3, padding: 1)
    let conv2 = Conv2d(8, 8, kernel: 3, padding: 1)
    let head = Linear(8, 5)
    let aux: Linear?

    init(aux: Bool = false) {
        self.aux = aux ? Linear(8, 5) : nil
        super.init()
        register(modules: ("conv1", conv1), ("conv2", conv2), ("head", head), ("aux", self.aux))
    }

    override func callAsFunction(_ x: Tensor) -> Tensor {
        let y = conv2(F.relu(conv1(x)))  // B,8,H,W
        return head(y.mean([2, 3]))  // B,8 -> B,5
    }
}

// MARK: scenarios

/// Broadcast of rank 0's parameters, gradient averaging over two iterations (the second after the
/// bucket rebuild), collectives on float and int64 tensors, and the monitored barrier.
func dataParallel(_ group: ProcessGroup) throws {
    let rank = group.rank
    Torch.manualSeed(100 + UInt64(rank))  // a different initialisation on every rank
    let model = SmallNet()
    Torch.manualSeed(100)
    let reference = SmallNet()  // rank 0's initialisation
    let ddp = try DataParallel(model, group: group, bucketCapMB: 0.001)  // 1 KB buckets: several
    for (name, p) in model.namedParameters() { record("broadcast.\(name)", p) }
    for (name, p) in reference.namedParameters() { record("reference.\(name)", p) }

    for iteration in 0..<2 {
        Torch.manualSeed(7 + UInt64(iteration))
        let images = Tensor.randn([2, 3, 6, 6]), targets = Tensor.randn([2, 5])
        // This rank: its one sample.
        model.zeroGrad()
        try ddp.beginStep()
        let out = model(images.narrow(0, start: rank, length: 1))
        let loss = ((out - targets.narrow(0, start: rank, length: 1)) * (out - targets.narrow(0, start: rank, length: 1))).mean()
        try ddp.prepareBackward(loss)
        try loss.checked.backward()
        for (name, p) in model.namedParameters() { record("grad\(iteration).\(name)", p.grad!) }
        // Single process: both samples.
        reference.zeroGrad()
        let all = reference(images)
        ((all - targets) * (all - targets)).mean().backward()
        for (name, p) in reference.namedParameters() { record("referenceGrad\(iteration).\(name)", p.grad!) }
        report.values["buckets\(iteration)"] = [Double(ddp.bucketCount)]
    }

    let counts = Tensor([Int64(rank + 1), Int64(10 * (rank + 1))])
    try group.allReduce(counts)
    record("allReduce.int64", counts)
    let average = Tensor([Float(2 * rank), 1])
    try group.allReduce(average, op: .average)
    record("allReduce.average", average)
    let maximum = Tensor([Float(rank)]), minimum = Tensor([Float(rank)]), product = Tensor([Float(rank + 2)])
    try group.allReduce(maximum, op: .max)
    try group.allReduce(minimum, op: .min)
    try group.allReduce(product, op: .product)
    record("allReduce.max", maximum)
    record("allReduce.min", minimum)
    record("allReduce.product", product)
    let gathered = try group.allGather(Tensor([Float(rank), Float(rank)]))
    record("allGather", try Tensor.Checked.cat(gathered, dim: 0))
    let fromOne = Tensor([Float(rank + 5)])
    try group.broadcast([fromOne], from: 1)
    record("broadcast.fromRank1", fromOne)
    try group.barrier()
    timed("monitoredBarrier") { try group.monitoredBarrier(timeout: .seconds(60)) }
    try unusedParameters(group)
}

/// A parameter without a gradient: DDP's error on the next step unless findUnusedParameters, with
/// which the used parameters' gradients are averaged as before.
func unusedParameters(_ group: ProcessGroup) throws {
    let rank = group.rank
    func step(_ model: SmallNet, _ ddp: DataParallel?, iteration: Int, batch: Range<Int>) throws {
        Torch.manualSeed(30 + UInt64(iteration))
        let images = Tensor.randn([2, 3, 6, 6]), targets = Tensor.randn([2, 5])
        model.zeroGrad()
        let x = images.narrow(0, start: batch.lowerBound, length: batch.count)
        let y = targets.narrow(0, start: batch.lowerBound, length: batch.count)
        let out = model(x)
        let loss = ((out - y) * (out - y)).mean()
        try ddp?.prepareBackward(loss)
        try loss.checked.backward()
    }
    Torch.manualSeed(200)
    let strictModel = SmallNet(aux: true)
    let strict = try DataParallel(strictModel, group: group)
    try step(strictModel, strict, iteration: 0, batch: rank..<(rank + 1))
    timed("unused.strict") { try step(strictModel, strict, iteration: 1, batch: rank..<(rank + 1)) }

    Torch.manualSeed(200)
    let model = SmallNet(aux: true), reference = SmallNet(aux: true)
    Torch.noGrad { for (a, b) in zip(reference.parameters, model.parameters) { a.copy_(b) } }
    let tolerant = try DataParallel(model, group: group, findUnusedParameters: true)
    for iteration in 0..<2 {
        try step(model, tolerant, iteration: iteration, batch: rank..<(rank + 1))
        try step(reference, nil, iteration: iteration, batch: 0..<2)
        for ((name, p), (_, r)) in zip(model.namedParameters(), reference.namedParameters()) where !name.hasPrefix("aux") {
            record("unused.grad\(iteration).\(name)", p.grad!)
            record("unused.referenceGrad\(iteration).\(name)", r.grad!)
        }
        report.values["unused.auxHasGrad\(iteration)"] = [model.aux!.weight.grad == nil ? 0 : 1]
    }
}

/// SyncBatchNorm on half the batch per rank against BatchNorm2d on the whole batch.
func syncBatchNorm(_ group: ProcessGroup) throws {
    let rank = group.rank
    Torch.manualSeed(3)
    let x = Tensor.randn([4, 3, 5, 5]) * 2.0 + 0.5, upstream = Tensor.randn([4, 3, 5, 5])
    let weight = Tensor.rand([3]) + 0.5, bias = Tensor.randn([3])

    func layer() -> BatchNorm2d {
        let norm = BatchNorm2d(3)
        Torch.noGrad {
            norm.weight.copy_(weight)
            norm.bias.copy_(bias)
        }
        return norm
    }

    let synced = layer()
    synced.useSyncBatchNorm(group)
    let part = x.narrow(0, start: 2 * rank, length: 2).clone()
    part.requiresGrad = true
    let y = synced(part)
    (y * upstream.narrow(0, start: 2 * rank, length: 2)).sum().backward()
    record("sync.y", y)
    record("sync.dx", part.grad!)
    record("sync.dweight", synced.weight.grad!)
    record("sync.dbias", synced.bias.grad!)
    record("sync.runningMean", synced.runningMean)
    record("sync.runningVar", synced.runningVar)

    let plain = layer()
    let whole = x.clone()
    whole.requiresGrad = true
    let yAll = plain(whole)
    (yAll * upstream).sum().backward()
    record("plain.y", yAll.narrow(0, start: 2 * rank, length: 2))
    record("plain.dx", whole.grad!.narrow(0, start: 2 * rank, length: 2))
    record("plain.dweight", plain.weight.grad!)
    record("plain.dbias", plain.bias.grad!)
    record("plain.runningMean", plain.runningMean)
    record("plain.runningVar", plain.runningVar)
}

/// One rank (SWIFTSEG_DIST_VICTIM, default 1) is killed; the other's next collective must fail at
/// once and the monitored barrier must name the dead rank (or, when rank 0 served the store, say so).
func peerDies(_ group: ProcessGroup) throws {
    try group.barrier()
    if group.rank == Int(env["SWIFTSEG_DIST_VICTIM"] ?? "1") { kill(getpid(), SIGKILL) }
    Thread.sleep(forTimeInterval: 0.5)  // let the kernel close the dead peer's connections
    timed("allReduce") { try group.allReduce(Tensor.ones([4])) }
    timed("monitoredBarrier") { try group.monitoredBarrier(timeout: .seconds(3)) }
}

/// Rank 1 stays alive but stops taking part; rank 0's collective must time out (not hang).
func peerHangs(_ group: ProcessGroup) throws {
    try group.barrier()
    if group.rank == 1 {
        Thread.sleep(forTimeInterval: 8)
        exit(0)
    }
    timed("allReduce") { try group.allReduce(Tensor.ones([4]), timeout: .seconds(2)) }
    timed("monitoredBarrier") { try group.monitoredBarrier(timeout: .seconds(2)) }
}

// MARK: main

do {
    guard let environment = try DistributedEnvironment.detect() else {
        FileHandle.standardError.write("DistributedTestWorker: WORLD_SIZE is not set\n".data(using: .utf8)!)
        exit(2)
    }
    let group = try ProcessGroup.initialize(environment, device: .cpu, timeout: .seconds(60))
    switch scenario {
    case "dataParallel": try dataParallel(group)
    case "syncBatchNorm": try syncBatchNorm(group)
    case "peerDies": try peerDies(group)
    case "peerHangs": try peerHangs(group)
    default: throw TorchError("DistributedTestWorker", "unknown scenario \(scenario)")
    }
    try write(rank: environment.rank)
    if scenario == "dataParallel" || scenario == "syncBatchNorm" { try group.shutdown() }
    exit(0)
} catch {
    FileHandle.standardError.write("DistributedTestWorker rank \(env["RANK"] ?? "?"): \(error)\n".data(using: .utf8)!)
    exit(1)
}
