import Foundation
import Testing
@testable import Torch

/// Multi-process training on c10d over Gloo. The two-rank tests start two DistributedTestWorker
/// processes (built with the tests) as torchrun would: RANK, WORLD_SIZE, MASTER_ADDR/PORT, with this
/// process serving the store on a free port (TORCHELASTIC_USE_AGENT_STORE) or rank 0 serving it. Each
/// worker writes its results and the single-process results on the whole batch; the comparisons are here. Every wait
/// is bounded: a worker still running after `workerDeadline` is killed and the test fails.
@Suite("Distributed", .serialized)
struct DistributedTests {
    static let workerDeadline: TimeInterval = 180

    // MARK: - environment

    @Test func torchrunEnvironment() throws {
        let env = try #require(try DistributedEnvironment.detect([
            "RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4",
            "MASTER_ADDR": "node7", "MASTER_PORT": "29611", "TORCHELASTIC_USE_AGENT_STORE": "True",
        ]))
        #expect(env == DistributedEnvironment(rank: 3, worldSize: 8, localRank: 1, localWorldSize: 4, masterAddress: "node7",
                                              masterPort: 29611, launcher: .torchrun, storeHostedByLauncher: true))
        #expect(env.isDistributed)
        #expect(try DistributedEnvironment.detect(["PATH": "/bin"]) == nil, "no launcher: a single-process run")
        // SLURM's variables alone do not make a distributed run unless asked for.
        #expect(try DistributedEnvironment.detect(["SLURM_PROCID": "0", "SLURM_NTASKS": "4"]) == nil)
    }

    @Test func slurmEnvironment() throws {
        let env = try #require(try DistributedEnvironment.detect([
            "SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1", "SLURM_JOB_NODELIST": "gpu[03-04,09],cpu1",
        ], launcher: .slurm))
        #expect(env.rank == 5 && env.worldSize == 8 && env.localRank == 1)
        #expect(env.masterAddress == "gpu03" && env.masterPort == DistributedEnvironment.defaultPort)
        #expect(!env.storeHostedByLauncher && env.launcher == .slurm)
        #expect(DistributedEnvironment.firstHost(ofNodeList: "node7") == "node7")
        #expect(DistributedEnvironment.firstHost(ofNodeList: "a1,b[1-2]") == "a1")
        #expect(DistributedEnvironment.firstHost(ofNodeList: "rack[12]") == "rack12")
    }

    @Test(arguments: [
        (["RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "h"], "rank 2 is not below the world size 2"),
        (["RANK": "x", "WORLD_SIZE": "2", "MASTER_ADDR": "h"], "RANK=x is not an integer"),
        (["WORLD_SIZE": "2", "MASTER_ADDR": "h"], "RANK is not set"),
        (["RANK": "0", "WORLD_SIZE": "2"], "MASTER_ADDR is not set"),
        (["RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "70000"], "master port 70000"),
    ])
    func environmentErrorsNameTheVariable(env: [String: String], message: String) {
        #expect {
            _ = try DistributedEnvironment.detect(env)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    // MARK: - one process

    @Test func storeServesAFreePortAndRoundTrips() throws {
        let server = try Store.tcp(host: "127.0.0.1", port: 0, isServer: true, timeout: .seconds(30))
        #expect(server.port > 0)
        let client = try Store.tcp(host: "127.0.0.1", port: server.port, isServer: false, timeout: .seconds(30))
        try client.set("greeting", "hello")
        #expect(try server.get("greeting") == "hello")
        #expect(try server.add("count", 2) == 2 && client.add("count", 3) == 5)
        #expect(try client.contains("greeting") && !client.contains("absent"))
        let prefixed = try client.prefixed("run1")
        try prefixed.set("k", "v")
        #expect(try server.get("run1/k") == "v")
        #expect(throws: TorchError.self) { try server.wait(["never"], timeout: .milliseconds(200)) }
    }

    /// With one process, SyncBatchNorm (through the real all_gather / all_reduce) equals BatchNorm.
    @Test func singleRankSyncBatchNormEqualsBatchNorm() throws {
        let store = try Store.tcp(host: "127.0.0.1", port: 0, isServer: true, timeout: .seconds(30))
        let group = try ProcessGroup.gloo(store: store, rank: 0, size: 1, name: "single", timeout: .seconds(30))
        Torch.manualSeed(11)
        let x = Tensor.randn([3, 4, 5, 6]) * 3.0 - 1.0, upstream = Tensor.randn([3, 4, 5, 6])
        let weight = Tensor.rand([4]) + 0.5, bias = Tensor.randn([4])

        func run(_ sync: Bool) throws -> (y: Tensor, dx: Tensor, dw: Tensor, db: Tensor, mean: Tensor, variance: Tensor) {
            let input = x.clone(), w = weight.clone(), b = bias.clone()
            for t in [input, w, b] { t.requiresGrad = true }
            let mean = Tensor.zeros([4]), variance = Tensor.ones([4])
            let y = sync
                ? try F.Checked.syncBatchNorm(input, runningMean: mean, runningVar: variance, weight: w, bias: b,
                                              momentum: 0.1, eps: 1e-5, group: group)
                : F.batchNorm(input, runningMean: mean, runningVar: variance, weight: w, bias: b, training: true)
            try (y * upstream).sum().checked.backward()
            return (y, input.grad!, w.grad!, b.grad!, mean, variance)
        }
        let synced = try run(true), plain = try run(false)
        #expect(maxError(synced.y, plain.y) < 1e-5)
        #expect(maxError(synced.dx, plain.dx) < 1e-5)
        #expect(relativeError(synced.dw, plain.dw) < 1e-5)
        #expect(relativeError(synced.db, plain.db) < 1e-5)
        #expect(maxError(synced.mean, plain.mean) < 1e-6)
        #expect(maxError(synced.variance, plain.variance) < 1e-5)
        try group.shutdown()
    }

    @Test(.enabled(if: !Torch.cuda.isAvailable, "CUDA is available here"))
    func ncclWithoutCUDASaysWhy() throws {
        let store = try Store.tcp(host: "127.0.0.1", port: 0, isServer: true, timeout: .seconds(30))
        #expect {
            _ = try ProcessGroup.nccl(store: store, rank: 0, size: 1, device: 0, name: "nccl", timeout: .seconds(5))
        } throws: { error in
            "\(error)".contains("NCCL needs CUDA, which is unavailable")
        }
    }

    // MARK: - two processes

    /// Rank 0's parameters reach rank 1; gradients of batch 1 per rank, averaged in buckets during
    /// backward, equal the single-process gradients of batch 2 (before and after the bucket rebuild);
    /// all_reduce (int64 and float), all_gather, broadcast and the monitored barrier.
    @Test func dataParallelMatchesOneProcess() throws {
        let reports = try runWorkers("dataParallel")
        for (rank, report) in reports.enumerated() {
            let names = report.values.keys.filter { $0.hasPrefix("reference.") && !$0.hasPrefix("reference.aux") }.map { String($0.dropFirst("reference.".count)) }
            #expect(names.count == 6, "conv1, conv2, head: weight and bias")
            for name in names {
                #expect(report.values["broadcast.\(name)"] == report.values["reference.\(name)"], "rank \(rank): \(name) is rank 0's")
                for iteration in 0..<2 {
                    let averaged = try #require(report.values["grad\(iteration).\(name)"])
                    let single = try #require(report.values["referenceGrad\(iteration).\(name)"])
                    let error = zip(averaged, single).map { abs($0 - $1) }.max() ?? .infinity
                    #expect(error < 1e-6, "rank \(rank) iteration \(iteration) \(name): max |error| \(error)")
                    #expect(averaged == reports[0].values["grad\(iteration).\(name)"], "every rank holds the same average")
                }
            }
            #expect(report.values["buckets0"] == [1], "one bucket until the rebuild, as DDP")
            #expect((report.values["buckets1"]?[0] ?? 0) > 1, "1 KB buckets after the rebuild: several")
            #expect(report.values["allReduce.int64"] == [3, 30])
            #expect(report.values["allReduce.average"] == [1, 1])
            #expect(report.values["allReduce.max"] == [1] && report.values["allReduce.min"] == [0])
            #expect(report.values["allReduce.product"] == [6])
            #expect(report.values["allGather"] == [0, 0, 1, 1])
            #expect(report.values["broadcast.fromRank1"] == [6])
            #expect(report.texts["monitoredBarrier"] == "no error")
            // A parameter without a gradient: DDP's error, thrown (not a crash), unless findUnusedParameters.
            let strict = report.texts["unused.strict"] ?? ""
            #expect(strict.contains("Expected to have finished reduction in the prior iteration"), "\(strict)")
            let tolerant = report.values.keys.filter { $0.hasPrefix("unused.grad") }
            #expect(tolerant.count == 12, "6 used parameters x 2 iterations")
            for key in tolerant {
                let error = maxError(report.values[key], report.values["unused.referenceGrad" + key.dropFirst("unused.grad".count)])
                #expect(error < 1e-6, "rank \(rank) \(key): max |error| \(error)")
            }
        }
    }

    /// SyncBatchNorm with half the batch per rank equals BatchNorm2d on the whole batch: outputs, input
    /// gradients, running statistics, and the weight/bias gradients summed over ranks (DDP's sum
    /// before averaging).
    /// Here rank 0 serves the store itself (plain `RANK`/`WORLD_SIZE`/`MASTER_PORT` rendezvous).
    @Test func syncBatchNormMatchesBatchNormOnTheWholeBatch() throws {
        let reports = try runWorkers("syncBatchNorm", rankZeroServesStore: true)
        for (rank, report) in reports.enumerated() {
            for name in ["y", "dx", "runningMean", "runningVar"] {
                let error = maxError(report.values["sync.\(name)"], report.values["plain.\(name)"])
                #expect(error < 1e-5, "rank \(rank) \(name): max |error| \(error)")
            }
        }
        for name in ["dweight", "dbias"] {
            let summed = zip(reports[0].values["sync.\(name)"] ?? [], reports[1].values["sync.\(name)"] ?? []).map { $0 + $1 }
            let plain = reports[0].values["plain.\(name)"] ?? []
            #expect(summed.count == 3 && relativeError(summed, plain) < 1e-5, "\(name): \(summed) vs \(plain)")
        }
    }

    /// A rank that is killed makes the other's next collective fail at once, and the monitored barrier
    /// names it: rank 1 (the store served here), or rank 0 while it served the store itself.
    @Test(arguments: [1, 0])
    func deadPeerFailsFastAndIsNamed(victim: Int) throws {
        let survivorRank = 1 - victim
        let reports = try runWorkers("peerDies", expectExit: victim == 1 ? [0, nil] : [nil, 0], rankZeroServesStore: victim == 0,
                                     environment: ["SWIFTSEG_DIST_VICTIM": "\(victim)"])
        let survivor = reports[survivorRank]
        let collective = survivor.texts["allReduce"] ?? ""
        #expect(collective != "no error" && collective.contains("rank \(survivorRank) of 2"), "\(collective)")
        #expect((survivor.values["allReduce.seconds"]?[0] ?? .infinity) < 10, "not the 60 s timeout: the peer is gone")
        let barrier = survivor.texts["monitoredBarrier"] ?? ""
        let named = victim == 1 ? "rank 1 did not reach the barrier" : "rank 0 (or the launcher), which serves it, has probably exited"
        #expect(barrier.contains(named), "\(barrier)")
        #expect((survivor.values["monitoredBarrier.seconds"]?[0] ?? .infinity) < 10)
    }

    /// A rank that stays alive but stops taking part makes the other's collective time out.
    @Test func stuckPeerTimesOut() throws {
        let reports = try runWorkers("peerHangs", expectExit: [0, 0])
        let survivor = reports[0]
        let collective = survivor.texts["allReduce"] ?? ""
        let seconds = survivor.values["allReduce.seconds"]?[0] ?? .infinity
        #expect(collective != "no error" && collective.contains("rank 0 of 2"), "\(collective)")
        #expect(seconds >= 1.5 && seconds < 15, "the 2 s timeout, not the group's 60 s: \(seconds) s")
        let barrier = survivor.texts["monitoredBarrier"] ?? ""
        #expect(barrier.contains("rank 1 did not reach the barrier"), "\(barrier)")
    }

    // MARK: - helpers

    struct Report: Codable {
        var values: [String: [Double]] = [:]
        var texts: [String: String] = [:]
    }

    /// Starts two ranks of `scenario` and returns their reports (an empty report for a rank that
    /// wrote none, e.g. one that was meant to die). `expectExit[r]` nil: any exit is fine. The store is
    /// served here on a free port (torchrun's agent store), or by rank 0 on a port that was just free.
    func runWorkers(_ scenario: String, expectExit: [Int32?] = [0, 0], rankZeroServesStore: Bool = false,
                    environment extra: [String: String] = [:]) throws -> [Report] {
        let worker = try workerExecutable()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-dist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var store: Store? = try Store.tcp(host: "127.0.0.1", port: 0, isServer: true, timeout: .seconds(60))
        let port = store!.port
        if rankZeroServesStore { store = nil }  // frees the port for rank 0

        var processes: [Process] = []
        for rank in 0..<2 {
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "GLOO_SOCKET_IFNAME")
            environment.merge([
                "RANK": "\(rank)", "WORLD_SIZE": "2", "LOCAL_RANK": "\(rank)", "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": "\(port)", "TORCHELASTIC_USE_AGENT_STORE": rankZeroServesStore ? "False" : "True",
                "OMP_NUM_THREADS": "1",
                "SWIFTSEG_DIST_SCENARIO": scenario, "SWIFTSEG_DIST_OUT": folder.path,
            ].merging(extra) { $1 }) { $1 }
            let process = Process()
            process.executableURL = worker
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            let log = folder.appendingPathComponent("rank\(rank).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            processes.append(process)
        }
        let deadline = Date().addingTimeInterval(Self.workerDeadline)
        while processes.contains(where: \.isRunning) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Issue.record("a \(scenario) worker was still running after \(Self.workerDeadline) s: killed")
        }
        withExtendedLifetime(store) {}
        var reports: [Report] = []
        for (rank, process) in processes.enumerated() {
            process.waitUntilExit()
            let log = (try? String(contentsOf: folder.appendingPathComponent("rank\(rank).log"), encoding: .utf8)) ?? ""
            if let expected = expectExit[rank] {
                #expect(process.terminationReason == .exit && process.terminationStatus == expected,
                        "rank \(rank) of \(scenario) exited with \(process.terminationStatus): \(log)")
            }
            let file = folder.appendingPathComponent("rank\(rank).json")
            if let data = try? Data(contentsOf: file) {
                reports.append(try JSONDecoder().decode(Report.self, from: data))
            } else {
                reports.append(Report())
            }
        }
        return reports
    }

    /// The worker is built beside the test bundle (`swift build --build-tests`).
    func workerExecutable() throws -> URL {
        let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                     ?? CommandLine.arguments[0])
        var folder = me.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("DistributedTestWorker")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        throw TorchError("DistributedTests", "DistributedTestWorker is not built beside \(me.path); run swift build --build-tests")
    }
}

private func maxError(_ a: Tensor, _ b: Tensor) -> Double {
    maxError(a.to(dtype: .float64).toArray(Double.self), b.to(dtype: .float64).toArray(Double.self))
}

private func maxError(_ a: [Double]?, _ b: [Double]?) -> Double {
    guard let a, let b, a.count == b.count, !a.isEmpty else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max()!
}

private func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    relativeError(a.to(dtype: .float64).toArray(Double.self), b.to(dtype: .float64).toArray(Double.self))
}

/// max |a - b| / max |b|.
private func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count, let scale = b.map(abs).max(), scale > 0 else { return .infinity }
    return maxError(a, b) / scale
}
