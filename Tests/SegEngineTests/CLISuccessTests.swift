import Foundation
import Testing
import SegData
import Torch
import TorchIO
@testable import SegEngine

/// Every command's success path, run as a user runs it: synth -> train -> eval --json -> predict -> forward, and
/// info, flops, bench and the demo on small inputs.
@Suite("CLI success paths", .enabled(if: SwiftSegBinary.url != nil, "no swiftseg binary was built"))
struct CLISuccessTests {
    static func run(_ arguments: [String]) throws -> SwiftSegBinary.Result {
        let r = try SwiftSegBinary.run(arguments)
        #expect(r.exited && r.status == 0, "\(arguments.prefix(1)) failed with \(r.status): \(r.stderr)")
        return r
    }

    @Test("info names the libtorch version, the library it loaded, threads and devices")
    func info() throws {
        let r = try Self.run(["info"])
        #expect(r.stdout.contains("libtorch   \(Torch.version)"), "\(r.stdout)")
        #expect(r.stdout.contains("threads") && r.stdout.contains("devices    cpu"), "\(r.stdout)")
        #expect(r.stdout.contains("CUDA"), "\(r.stdout)")
    }

    @Test("synth, train, eval --json (with the protocol used), predict (whole and slide + TTA) and forward on one small set")
    func pipeline() throws {
        let dir = try EngineFixtures.temporaryFolder("cli-ok")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("synth")
        let synth = try Self.run(["synth", "--out", data.path, "--train", "6", "--val", "2", "--size", "64x80", "--seed", "1"])
        #expect(synth.stdout.contains("wrote 6 training and 2 validation images"), "\(synth.stdout)")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent(SynthDataset.classesFileName).path))

        // The synthetic set is detected from the folder (no --dataset), also when given its ADE20K-style sub-folder.
        let work = dir.appendingPathComponent("run")
        let train = try Self.run(["train", "--model", "lrformer-tiny", "--data", data.appendingPathComponent("ADEChallengeData2016").path,
                                  "--iters", "4", "--batch", "2", "--crop", "64", "--device", "cpu", "--workers", "1",
                                  "--eval-interval", "4", "--work-dir", work.path])
        #expect(train.stdout.contains("(synth)"), "\(train.stdout)")
        #expect(train.stdout.contains("iter 4/4") && train.stdout.contains("last validation:"), "\(train.stdout)")
        let checkpoint = work.appendingPathComponent("checkpoints/iter_4")
        #expect(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("model.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("loss.svg").path))

        let out = dir.appendingPathComponent("eval.json")
        let eval = try Self.run(["eval", "--model", "lrformer-tiny", "--checkpoint", checkpoint.path, "--data", data.path, "--json",
                                 "--out", out.path])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect(json["mIoU"] is Double && (json["classes"] as? [Any])?.count == SynthDataset.classes.count)
        let record = try #require(json["protocol"] as? [String: Any])
        #expect(record["mode"] as? String == "whole" && record["model"] as? String == "lrformer-tiny")
        #expect(try Data(contentsOf: out) == Data(eval.stdout.utf8))

        let images = data.appendingPathComponent("ADEChallengeData2016/images/validation")
        let predictions = dir.appendingPathComponent("predictions")
        let predict = try Self.run(["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint.path, "--input", images.path,
                                    "--out", predictions.path, "--overlay", "--profile"])
        #expect(predict.stdout.contains("images/s"), "\(predict.stdout)")
        let written = try FileManager.default.contentsOfDirectory(atPath: predictions.path).sorted()
        #expect(written.count == 4 && written.filter { $0.hasSuffix("_overlay.png") }.count == 2, "\(written)")
        let slide = dir.appendingPathComponent("slide")
        let slid = try Self.run(["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint.path, "--input", images.path,
                                 "--out", slide.path, "--mode", "slide", "--crop", "48", "--stride", "32", "--tta"])
        #expect(slid.stdout.contains("slide 48x48 every 32x32") && slid.stdout.contains("TTA"), "\(slid.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: slide.path).count == 2)

        // forward: every stage and the logits of a stored input.
        let input = dir.appendingPathComponent("x.safetensors"), output = dir.appendingPathComponent("y.safetensors")
        try SafeTensors.write(HostTensorDict([("input", try Tensor.randn([1, 3, 64, 96]).host())]), to: input)
        _ = try Self.run(["forward", "--model", "lrformer-tiny", "--num-classes", "\(SynthDataset.classes.count)", "--weights",
                          checkpoint.path, "--input", input.path, "--output", output.path])
        let outputs = try SafeTensors.read(output)
        #expect(outputs["logits"]?.shape == [1, SynthDataset.classes.count, 8, 12])
        #expect(outputs["stage4"]?.shape.first == 1)
    }

    @Test("flops --json and bench write their reports")
    func flopsAndBench() throws {
        let dir = try EngineFixtures.temporaryFolder("cli-bench")
        defer { try? FileManager.default.removeItem(at: dir) }
        let flops = try Self.run(["flops", "--model", "lrformer-tiny", "--size", "64x96", "--json"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(flops.stdout.utf8)) as? [[String: Any]])
        #expect(parsed.count == 1)
        let bench = try Self.run(["bench", "--models", "lrformer-tiny", "--sizes", "64", "--warmup", "0", "--repeats", "2", "--min-time", "0", "--out", dir.path])
        #expect(bench.stdout.contains("lrformer-tiny"), "\(bench.stdout)")
        for file in ["bench.md", "bench.json", "bench.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file) missing")
        }
    }

    @Test("demo runs end to end on a few small images and says where its pictures are")
    func demo() throws {
        let dir = try EngineFixtures.temporaryFolder("cli-demo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(["demo", "--work-dir", dir.path, "--iters", "3", "--size", "64", "--train-images", "4",
                              "--val-images", "2", "--device", "cpu"])
        #expect(r.stdout.contains("Validation mIoU") && r.stdout.contains("Pictures and files:"), "\(r.stdout)")
        for name in ["loss.svg", "eval.json", "predictions"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) missing")
        }
        // A rerun replaces the demo's own run; a work dir holding a run on real data is refused and left alone.
        let again = try Self.run(["demo", "--work-dir", dir.path, "--iters", "2", "--size", "64", "--train-images", "4",
                                  "--val-images", "2", "--device", "cpu"])
        #expect(again.exited && again.status == 0, "\(again.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("checkpoints").path).sorted() == ["best", "iter_2"])
        var real = try TrainConfig.preset(model: "segformer-b0", dataset: .ade20k)
        real.dataset.root = "/data/ade"
        try real.save(to: dir.appendingPathComponent("config.json"))
        let refused = try SwiftSegBinary.run(["demo", "--work-dir", dir.path, "--iters", "2", "--size", "64", "--device", "cpu"])
        CLITests.expectCleanFailure(refused, ["holds a training run that is not a demo's"], "demo over a real run")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoints/iter_2/model.safetensors").path))
    }
}
