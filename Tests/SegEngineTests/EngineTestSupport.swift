import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
import Logging
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

extension EngineFixtures {
    /// A test protocol for the small synthetic images: keep-ratio into (256, 64), `divisor`, whole or slide.
    static func settings(mode: InferenceMode = .whole, divisor: Int? = 32, tta: TestTimeAugmentation? = nil,
                         model: String = "lrformer-tiny") -> EvaluationSettings {
        var test = TestProtocol(mode: .whole, scale: ResizeScale(longSide: 256, shortSide: 64), sizeDivisor: divisor,
                                slideCrop: .square(64), slideStride: .square(48), tta: TTAProtocol(rule: .scaleTestScale))
        if case let .slide(crop, stride) = mode {
            test.mode = .slide
            test.slideCrop = crop
            test.slideStride = stride
        }
        if let tta { test.tta.ratios = tta.scales; test.tta.flip = tta.flip }
        return EvaluationSettings(test: test, normalization: .imageNet, tta: tta != nil, source: "test",
                                  constraints: InputConstraints(minimumSide: 1), model: model)
    }
}

/// A swift-log handler that hands every message to a closure (tests read what the engine logs); warnings and
/// errors arrive prefixed with "warning: " / "error: ".
struct ClosureLogHandler: LogHandler {
    let sink: @Sendable (String) -> Void
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink(event.level >= .warning ? "\(event.level): \(event.message)" : "\(event.message)")
    }
}

/// Lines collected from a logger, thread-safe.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
}

extension EngineFixtures {
    /// A logger that calls `sink` for each message.
    static func logger(_ sink: @escaping @Sendable (String) -> Void) -> Logger {
        Logger(label: "test") { _ in ClosureLogHandler(sink: sink) }
    }

    static let silentLogger = logger { _ in }
}
