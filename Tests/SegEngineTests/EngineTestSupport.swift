import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

/// Shared set-up of the training, evaluation and prediction tests: temporary folders, a small synthetic
/// data set and a `lrformer-tiny` config that trains in seconds on a CPU.
enum EngineFixtures {
    /// A new empty folder under the system temporary folder; the caller removes it.
    static func temporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftseg-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `SynthDataset.generate` into `dir/data`: 8 classes, reduce_zero_label (0 -> 255).
    static func synthData(in dir: URL, train: Int = 12, val: Int = 3, size: Int = 64, seed: UInt64 = 0) throws -> URL {
        let root = dir.appendingPathComponent("data")
        try SynthDataset.generate(to: root, train: train, val: val, size: (size, size), seed: seed)
        return root
    }

    /// The synth preset for `model` (`lrformer-tiny` by default), shrunk: crops of 64, batch 2, one worker, CPU, a
    /// log line per iteration; evaluation and checkpoints only at the end unless the caller sets them.
    static func tinyConfig(data: URL, iterations: Int, lr: Double = 1e-3, model: String = "lrformer-tiny") throws -> TrainConfig {
        var c = try TrainConfig.preset(model: model, dataset: .synth)
        c.dataset.root = data.path
        c.iterations = iterations
        c.batchSize = 2
        c.cropSize = .square(64)
        c.augmentation.scale = ResizeScale(longSide: 256, shortSide: 64)
        c.test.scale = ResizeScale(longSide: 256, shortSide: 64)
        c.optimizer.lr = lr
        c.schedule.warmupIters = min(2, iterations - 1)
        c.evalInterval = 1_000
        c.checkpointInterval = 1_000
        c.logInterval = 1
        c.workers = 1
        c.device = "cpu"
        c.seed = 7
        try c.validate()
        return c
    }

    static func trainerOptions(_ workDir: URL, resume: Bool = false) -> Trainer.Options {
        var o = Trainer.Options(workDir: workDir)
        o.resume = resume
        o.evalLimit = 2
        o.quiet = false
        return o
    }

    /// A checkpoint folder's model weights, as stored.
    static func storedWeights(_ checkpoint: URL) throws -> HostTensorDict {
        try SafeTensors.read(checkpoint.appendingPathComponent("model.safetensors"))
    }

    /// The largest absolute difference between two state dicts with the same keys (infinity when keys or
    /// shapes differ).
    static func maxDifference(_ a: HostTensorDict, _ b: HostTensorDict) -> Double {
        guard a.keys.sorted() == b.keys.sorted() else { return .infinity }
        var worst = 0.0
        for (key, x) in a.items {
            guard let y = b[key], x.shape == y.shape else { return .infinity }
            let u = x.floatValues(), v = y.floatValues()
            for i in u.indices { worst = Swift.max(worst, Double(Swift.abs(u[i] - v[i]))) }
        }
        return worst
    }

    /// A model's state dict as host tensors (CPU), e.g. to write a safetensors file.
    static func hostStateDict(_ model: Module) throws -> HostTensorDict {
        var out = HostTensorDict()
        for (k, t) in model.stateDict() { out[k] = try t.checked.to(device: .cpu).host() }
        return out
    }

    /// Makes an LRFormer predict `winner` at every pixel, whatever the input: classifier weight 0, bias one-hot.
    static func constantPrediction(_ model: any SegmentationModel, winner: Int) throws {
        let k = model.numClasses
        var bias = [Float](repeating: 0, count: k)
        bias[winner] = 5
        let weight = model.stateDict().first { $0.0 == model.classifierKey }!.1
        let biasKey = model.classifierKey.replacingOccurrences(of: ".weight", with: ".bias")
        try model.load(stateDict: [model.classifierKey: Tensor.zeros(weight.shape), biasKey: Tensor(bias, shape: [k])], strict: false)
    }
}

/// The suites that run models in this process (training, evaluation, prediction), one test at a time: a
/// trainer owns the process-wide interrupt flag and SIGINT handler while it runs, and models running side by
/// side on a 2-core machine only slow each other down.
@Suite("Engine runs", .serialized)
struct EngineRuns {}
