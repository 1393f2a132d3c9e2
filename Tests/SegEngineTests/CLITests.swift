import Foundation
import Testing
import SegData
import Torch
import TorchIO
@testable import SegEngine

/// The `swiftseg` executable, run as a user runs it. The test target cannot import an executable target
/// without a dependency in Package.swift, so these tests start the built binary: $SWIFTSEG_BIN, else the
/// one beside this test bundle, else `<package>/.build*/debug/swiftseg`. Without one they are skipped.
enum SwiftSegBinary {
    static let url: URL? = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["SWIFTSEG_BIN"] { candidates.append(URL(fileURLWithPath: env)) }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(bundleDir.appendingPathComponent("swiftseg"))
        // Tests/SegEngineTests/CLITests.swift -> package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scratch = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(".build") }.sorted()
        candidates += scratch.map { root.appendingPathComponent($0).appendingPathComponent("debug/swiftseg") }
        let found = candidates.first { fm.isExecutableFile(atPath: $0.path) }
        if found == nil { print("CLI tests skipped: no swiftseg binary (looked at \(candidates.map(\.path)); set SWIFTSEG_BIN)") }
        return found
    }()

    struct Result {
        var status: Int32
        var exited: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to its end; `whileRunning` is called once it has started (to signal it, say).
    /// libtorch gets one thread: the test runner keeps both cores of a small machine busy already, and
    /// OpenMP threads that wait for a descheduled sibling make every op many times slower.
    static func run(_ arguments: [String], environment: [String: String] = [:], whileRunning: ((Process) -> Void)? = nil) throws -> Result {
        let process = Process()
        process.executableURL = url!
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["OMP_NUM_THREADS": "1"].merging(environment) { _, new in new }) { _, new in new }
        // Output goes to files, so that neither stream can fill a pipe while the other is read.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        whileRunning?(process)
        process.waitUntilExit()
        let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
        return Result(status: process.terminationStatus, exited: process.terminationReason == .exit,
                      stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

@Suite("CLI", .enabled(if: SwiftSegBinary.url != nil, "no swiftseg binary was built"))
struct CLITests {
    /// Each case fails with a non-zero exit (not a signal) and says why on stderr.
    static let failures: [(arguments: [String], message: String)] = [
        (["frobnicate"], "frobnicate"),
        (["inspect"], "--model"),
        (["inspect", "--model", "lrformer-tiny", "--num-classes", "0"], "--num-classes must be positive"),
        (["inspect", "--model", "no-such-model"], "unknown model 'no-such-model'"),
        (["forward", "--model", "lrformer-tiny", "--weights", "/nonexistent/w.safetensors", "--input", "/nonexistent/x.safetensors",
          "--output", "/tmp/out.safetensors"], "weights not found: /nonexistent/w.safetensors"),
        (["predict", "--model", "lrformer-tiny", "--checkpoint", "/nonexistent.safetensors", "--input", "/nonexistent.png",
          "--out", "/tmp/x", "--opacity", "2"], "--opacity must be within 0...1"),
        (["train", "--model", "lrformer-tiny", "--data", "/nonexistent/data", "--dataset", "synth"], "dataset root not found: /nonexistent/data"),
        (["train", "--model", "lrformer-tiny", "--data", "/tmp", "--eval-limit", "0"], "--eval-limit must be positive"),
        // Negative numbers are values (refused by the config), not flags ("Missing value"); a negative seed trapped.
        (["train", "--model", "lrformer-tiny", "--data", "/tmp", "--dataset", "synth", "--lr", "-1"], "optimizer.lr: must be positive, got -1.0"),
        (["train", "--model", "lrformer-tiny", "--data", "/tmp", "--dataset", "synth", "--seed", "-5"], "seed: must not be negative, got -5"),
        (["eval", "--model", "lrformer-tiny", "--checkpoint", "/nonexistent", "--data", "/tmp", "--limit", "0"], "--limit must be positive"),
        (["eval", "--model", "lrformer-tiny", "--checkpoint", "/nonexistent", "--data", "/tmp", "--mode", "tiles"], "The value 'tiles' is invalid for '--mode <mode>'"),
    ]

    @Test("Argument and input errors exit non-zero with a message", arguments: 0..<failures.count)
    func failsCleanly(_ index: Int) throws {
        let (arguments, message) = Self.failures[index]
        let r = try SwiftSegBinary.run(arguments)
        #expect(r.exited, "\(arguments) died of signal \(r.status)")
        #expect(r.status != 0, "\(arguments) exited 0")
        #expect(r.stderr.contains(message), "\(arguments): stderr was \(r.stderr)")
    }

    @Test("A CUDA device that does not exist is refused with the reason")
    func missingDevice() throws {
        guard Torch.cuda.deviceCount <= 3 else { return }  // a machine with cuda:3 has nothing to refuse
        let r = try SwiftSegBinary.run(["bench", "--models", "lrformer-tiny", "--sizes", "64", "--device", "cuda:3", "--repeats", "1"])
        #expect(r.exited && r.status != 0)
        let expected = Torch.cuda.isAvailable ? "cuda:3: only" : "--device cuda:3: CUDA is unavailable"
        #expect(r.stderr.contains(expected), "stderr was \(r.stderr)")
    }

    @Test("`models` lists lrformer-t with 13,264,894 parameters")
    func models() throws {
        let r = try SwiftSegBinary.run(["models"])
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("  lrformer-t ") }
        #expect(line?.contains("13,264,894") == true, "\(r.stdout)")
        #expect(r.stdout.contains("lrformer-tiny"))
    }

    @Test("`inspect --json` is JSON with the 245 state_dict entries of lrformer-tiny")
    func inspectJSON() throws {
        let r = try SwiftSegBinary.run(["inspect", "--model", "lrformer-tiny", "--json"])
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["model"] as? String == "lrformer-tiny")
        #expect(object["num_state_dict_entries"] as? Int == 245)
        let entries = try #require(object["state_dict"] as? [[Any]])
        #expect(entries.count == 245)
        #expect(entries.contains { ($0.first as? String) == "decode_head.conv_seg.weight" && ($0[1] as? [Int]) == [5, 32, 1, 1] })
    }
}

extension CLITests {
    /// `swiftseg train` arguments for a 16-iteration `lrformer-tiny` run on 64x64 synthetic images.
    static func trainArguments(data: URL, workDir: URL, config: URL) -> [String] {
        ["train", "--model", "lrformer-tiny", "--data", data.path, "--dataset", "synth", "--iters", "16", "--batch", "2",
         "--crop", "64", "--lr", "1e-3", "--device", "cpu", "--seed", "3", "--workers", "1", "--eval-interval", "1000",
         "--eval-limit", "1", "--work-dir", workDir.path, "--config", config.path]
    }

    /// Training iterations logged so far in a work dir's log.jsonl.
    static func loggedIterations(_ workDir: URL) -> Int {
        guard let text = try? String(contentsOf: workDir.appendingPathComponent("log.jsonl"), encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"loss\"") }.count
    }

    /// Writes 8 + 1 synthetic 64x64 images and a config that shrinks the synth preset to them.
    static func smallRunInputs(in dir: URL) throws -> (data: URL, config: URL) {
        let data = dir.appendingPathComponent("data")
        try SynthDataset.generate(to: data, train: 8, val: 1, size: (64, 64), seed: 0)
        let config = dir.appendingPathComponent("tiny.yaml")
        try "schedule:\n  warmupIters: 2\naugmentation:\n  scale: [256, 64]\ntest:\n  scale: [256, 64]\nlogInterval: 1\n"
            .write(to: config, atomically: true, encoding: .utf8)
        return (data, config)
    }

    // At lr 1e-30 three steps leave the parameters as they were initialised, so the checkpoints show the
    // initialisation. libtorch's generator does not start from the same state in every process: without
    // seeding before the model is built, two runs of one config would start from different weights.
    @Test("`--seed` fixes the initial weights: the same seed gives the same ones, another seed others")
    func seedSetsInitialWeights() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-cli-seed-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, config) = try Self.smallRunInputs(in: dir)
        var parameters: [HostTensorDict] = []
        for (i, seed) in ["3", "3", "4"].enumerated() {
            let work = dir.appendingPathComponent("run\(i)")
            var arguments = Self.trainArguments(data: data, workDir: work, config: config)
            arguments[arguments.firstIndex(of: "--iters")! + 1] = "3"
            arguments[arguments.firstIndex(of: "--lr")! + 1] = "1e-30"
            arguments[arguments.firstIndex(of: "--seed")! + 1] = seed
            let r = try SwiftSegBinary.run(arguments)
            #expect(r.exited && r.status == 0, "\(r.stderr)")
            // Parameters only: BatchNorm running statistics follow the data, which the seed also orders.
            let stored = try EngineFixtures.storedWeights(work.appendingPathComponent("checkpoints/iter_3"))
            parameters.append(HostTensorDict(stored.items.filter { !$0.key.contains("running_") && !$0.key.contains("num_batches") }))
        }
        #expect(EngineFixtures.maxDifference(parameters[0], parameters[1]) < 1e-12)
        #expect(EngineFixtures.maxDifference(parameters[0], parameters[2]) > 1e-3)
    }

    // Separate processes, so that no test running beside it in this process can draw from libtorch's global
    // generator between the trainer's per-iteration seeding and its dropout masks.
    @Test("Ctrl-C, then `train --resume`, gives the weights of an uninterrupted run")
    func interruptAndResume() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-cli-resume-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, config) = try Self.smallRunInputs(in: dir)
        let straight = dir.appendingPathComponent("straight"), resumed = dir.appendingPathComponent("resumed")

        let a = try SwiftSegBinary.run(Self.trainArguments(data: data, workDir: straight, config: config))
        #expect(a.exited && a.status == 0, "\(a.stderr)")

        // Ctrl-C once two iterations are logged: the trainer checkpoints at the next iteration boundary.
        let b1 = try SwiftSegBinary.run(Self.trainArguments(data: data, workDir: resumed, config: config)) { process in
            let deadline = Date().addingTimeInterval(120)
            while Self.loggedIterations(resumed) < 2 && process.isRunning && Date() < deadline { usleep(2_000) }
            process.interrupt()
        }
        #expect(b1.exited && b1.status == 130, "an interrupted run exits 130 after saving: \(b1.stderr)")
        #expect(b1.stdout.contains("interrupted; continue with --resume"), "\(b1.stdout)")
        let stoppedAt = try #require(TrainingCheckpoint.latest(in: resumed.appendingPathComponent("checkpoints"))).readState().iteration
        #expect((2..<16).contains(stoppedAt))

        let b2 = try SwiftSegBinary.run(Self.trainArguments(data: data, workDir: resumed, config: config) + ["--resume"])
        #expect(b2.exited && b2.status == 0, "\(b2.stderr)")
        #expect(b2.stdout.contains("resumed from") && b2.stdout.contains("at iteration \(stoppedAt)"), "\(b2.stdout)")

        let weightsA = try EngineFixtures.storedWeights(straight.appendingPathComponent("checkpoints/iter_16"))
        let weightsB = try EngineFixtures.storedWeights(resumed.appendingPathComponent("checkpoints/iter_16"))
        let difference = EngineFixtures.maxDifference(weightsA, weightsB)
        #expect(difference <= 1e-6, "stopped at \(stoppedAt): resumed weights differ from the straight run's by \(difference)")
        #expect(Self.loggedIterations(resumed) == 16)
    }
}
