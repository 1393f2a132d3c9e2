import Foundation
import Testing
import SegData
import Torch
import TorchIO
@testable import SegEngine

#if canImport(Glibc)
import Glibc
#endif

/// Multi-process training and evaluation through `swiftseg ... --nproc-per-node 2` on the CPU (Gloo), as a user
/// runs them: two worker processes against one, on the same synthetic data.
@Suite("Distributed training (2 processes, Gloo)", .serialized, .enabled(if: SwiftSegBinary.url != nil, "no swiftseg binary was built"))
struct DistributedTrainingTests {
    /// 8 + 2 synthetic 64x64 images and a config with exact-comparison settings: no dropout or stochastic depth,
    /// every BatchNorm synchronised, SGD (AdamW would amplify the rounding noise of gradients that are zero in
    /// exact arithmetic, such as attention key biases'), no warm-up.
    static func inputs(in dir: URL) throws -> (data: URL, config: URL) {
        let data = dir.appendingPathComponent("data")
        try SynthDataset.generate(to: data, train: 8, val: 2, size: (64, 64), seed: 0)
        let config = dir.appendingPathComponent("ddp.yaml")
        try """
            model: {dropout: 0, dropPath: 0}
            syncBatchNorm: all
            optimizer: {type: sgd, lr: 0.01, momentum: 0.9}
            schedule: {warmupIters: 0}
            augmentation: {scale: [256, 64]}
            test: {scale: [256, 64]}
            logInterval: 1
            """.write(to: config, atomically: true, encoding: .utf8)
        return (data, config)
    }

    static func trainArguments(data: URL, config: URL, workDir: URL, iterations: Int, batch: Int) -> [String] {
        ["train", "--model", "lrformer-t", "--data", data.path, "--config", config.path, "--iters", "\(iterations)",
         "--batch", "\(batch)", "--crop", "64", "--device", "cpu", "--workers", "1", "--eval-interval", "\(iterations)",
         "--work-dir", workDir.path, "--seed", "5"]
    }

    /// Every tensor within 1e-5 of its largest magnitude (plus 1e-9 for tensors that are rounding noise, such as
    /// biases whose exact gradient is 0).
    static func expectSameWeights(_ a: HostTensorDict, _ b: HostTensorDict, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.keys == b.keys, sourceLocation: sourceLocation)
        var worst = (relative: 0.0, key: "")
        for (key, x) in a.items where x.dtype.isFloatingPoint {
            let u = x.floatValues(), v = b[key]!.floatValues()
            let scale = Double(u.map(abs).max() ?? 0)
            let diff = Double(zip(u, v).map { abs($0 - $1) }.max() ?? 0)
            let relative = diff / max(scale, 1e-12)
            if diff > 1e-5 * scale + 1e-9 { Issue.record("\(key): differs by \(diff) (largest value \(scale))", sourceLocation: sourceLocation) }
            if scale > 1e-6 && relative > worst.relative { worst = (relative, key) }
        }
        print("2 processes x batch 1 vs 1 x batch 2: worst relative difference \(worst.relative) (\(worst.key))")
    }

    @Test("2 processes x batch 1 train exactly as 1 process x batch 2 (SyncBN), on different samples; eval with 2 processes equals eval with 1")
    func dataParallelEqualsOneProcess() throws {
        let dir = try EngineFixtures.temporaryFolder("ddp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, config) = try Self.inputs(in: dir)
        let one = dir.appendingPathComponent("one"), two = dir.appendingPathComponent("two")
        let a = try SwiftSegBinary.run(Self.trainArguments(data: data, config: config, workDir: one, iterations: 3, batch: 2))
        #expect(a.exited && a.status == 0, "\(a.stderr)")
        let b = try SwiftSegBinary.run(Self.trainArguments(data: data, config: config, workDir: two, iterations: 3, batch: 1)
                                       + ["--nproc-per-node", "2"])
        #expect(b.exited && b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("data parallel over 2 processes"), "\(b.stdout)")
        Self.expectSameWeights(try EngineFixtures.storedWeights(one.appendingPathComponent("checkpoints/iter_3")),
                               try EngineFixtures.storedWeights(two.appendingPathComponent("checkpoints/iter_3")))

        // The two ranks read different samples of every global batch, which together are the single process's batch.
        struct Line: Decodable { var iteration: Int; var samplesPerRank: [[Int]]? }
        let lines = try String(contentsOf: two.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }.compactMap(\.samplesPerRank)
        #expect(lines.count == 3)
        for ranks in lines {
            #expect(ranks.count == 2 && ranks.allSatisfy { $0.count == 1 } && Set(ranks[0]).isDisjoint(with: ranks[1]), "\(ranks)")
        }

        // Evaluation on 2 processes (a shard each, confusion matrices summed) gives exactly the single-process numbers.
        let checkpoint = two.appendingPathComponent("checkpoints/iter_3").path
        let single = dir.appendingPathComponent("single.json"), double = dir.appendingPathComponent("double.json")
        for (out, extra) in [(single, [String]()), (double, ["--nproc-per-node", "2"])] {
            let r = try SwiftSegBinary.run(["eval", "--model", "lrformer-t", "--checkpoint", checkpoint, "--data", data.path, "--json",
                                            "--out", out.path] + extra)
            #expect(r.exited && r.status == 0, "\(r.stderr)")
        }
        #expect(try Data(contentsOf: single) == Data(contentsOf: double))
    }

    @Test("A checkpoint of a 2-process run resumes in 1 process (batch 2) and continues the same run")
    func resumeTwoInOne() throws {
        let dir = try EngineFixtures.temporaryFolder("ddp-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, config) = try Self.inputs(in: dir)
        let straight = dir.appendingPathComponent("straight"), mixed = dir.appendingPathComponent("mixed")
        let a = try SwiftSegBinary.run(Self.trainArguments(data: data, config: config, workDir: straight, iterations: 6, batch: 2))
        #expect(a.exited && a.status == 0, "\(a.stderr)")
        // Two processes, stopped by Ctrl-C (sent to the launcher) once two iterations are logged.
        let b1 = try SwiftSegBinary.run(Self.trainArguments(data: data, config: config, workDir: mixed, iterations: 6, batch: 1)
                                        + ["--nproc-per-node", "2"]) { process in
            let deadline = Date().addingTimeInterval(180)
            while CLITests.loggedIterations(mixed) < 2 && process.isRunning && Date() < deadline { usleep(5_000) }
            process.interrupt()
        }
        #expect(b1.exited && b1.status == 130, "\(b1.status): \(b1.stderr)")
        let stoppedAt = try #require(TrainingCheckpoint.latest(in: mixed.appendingPathComponent("checkpoints"))).readState().iteration
        #expect((2..<6).contains(stoppedAt))
        let b2 = try SwiftSegBinary.run(Self.trainArguments(data: data, config: config, workDir: mixed, iterations: 6, batch: 2) + ["--resume"])
        #expect(b2.exited && b2.status == 0, "\(b2.stderr)")
        #expect(b2.stdout.contains("at iteration \(stoppedAt)"), "\(b2.stdout)")
        Self.expectSameWeights(try EngineFixtures.storedWeights(straight.appendingPathComponent("checkpoints/iter_6")),
                               try EngineFixtures.storedWeights(mixed.appendingPathComponent("checkpoints/iter_6")))
    }

    @Test("Killing one worker ends the other with an error naming the problem, well within the timeout")
    func deadWorker() throws {
        let dir = try EngineFixtures.temporaryFolder("ddp-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, config) = try Self.inputs(in: dir)
        let work = dir.appendingPathComponent("run")
        var killedAt: Date? = nil
        let r = try SwiftSegBinary.run(Self.trainArguments(data: data, config: config, workDir: work, iterations: 500, batch: 1)
                                       + ["--nproc-per-node", "2", "--dist-timeout", "120"]) { launcher in
            let deadline = Date().addingTimeInterval(180)
            while CLITests.loggedIterations(work) < 2 && launcher.isRunning && Date() < deadline { usleep(5_000) }
            // The launcher's children, found through /proc: kill the second one (rank 1) outright.
            let children = Self.children(of: launcher.processIdentifier)
            #expect(children.count == 2, "\(children)")
            if let victim = children.max() { kill(victim, SIGKILL); killedAt = Date() }
        }
        let took = killedAt.map { Date().timeIntervalSince($0) } ?? .infinity
        #expect(r.exited && r.status != 0)
        #expect(took < 60, "the run took \(took) s to end after a worker died")
        #expect(r.stderr.contains("rank 1 exited with status") || r.stderr.contains("rank 0:"), "\(r.stderr)")
    }

    /// Process ids whose parent is `pid` (from /proc/<pid>/stat).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }
}
