// What a benchmark run measures: models x sizes, on one device and precision, inference or training.

import Foundation
import SegModels
import Torch
import TorchIO

/// A benchmark's arithmetic: float32, or autocast bf16 / fp16 with float32 weights (PyTorch's AMP, which the
/// official "autocast bf16" timings use).
public typealias BenchPrecision = Precision

public struct BenchOptions: Sendable {
    /// Segmentation model names from the model zoo.
    public var models: [String]
    /// Input sizes; each run uses a random batch of images of that size.
    public var sizes: [Size2D]
    public var batch: Int
    public var device: Device
    public var precision: BenchPrecision
    /// CUDA only: capture the inference once per input size and replay it (CUDA graphs).
    public var cudaGraphs: Bool = false
    /// false: inference (`eval()`, inference mode, logits at the model's stride). true: one training step
    /// (forward, cross-entropy at the input size on random labels, backward, AdamW update).
    public var train: Bool
    public var warmup: Int
    /// Timed calls per (model, size): at least this many...
    public var repeats: Int
    /// ...and, if these take less, more calls until this many seconds are timed (0: exactly `repeats`). On a shared
    /// machine a longer window keeps one slow stretch from moving a process's median: per-process medians of
    /// LRFormer-T at 512 spread 9.5% over 10 calls and 5.4% over 40 (8 processes, docs/benchmarks.md).
    public var minTimeSeconds: Double = 0
    /// nil: each model's default (150 for the ADE20K models).
    public var numClasses: Int?
    /// Where ratio columns come from (CPU runs only); nil: no comparison.
    public var baselines: OfficialTiming.Source?
    /// When set, `bench.md`, `bench.json` and `bench.svg` are written there.
    public var outputDirectory: URL?
    /// Inference on the CPU in float32 runs the model optimized for inference (`Module.optimizeForInference`:
    /// folded BatchNorm, prepacked oneDNN weights, fused activations); false times the plain forward.
    public var optimizeInference: Bool = true
    /// After timing, runs this many more calls under the op profiler and reports where the time goes (0: none).
    public var profileRuns: Int = 0
    /// Profile rows per operator and input shapes instead of per operator.
    public var profileShapes: Bool = false
    /// Rows of the profile table.
    public var profileRows: Int = 25

    public init(models: [String], sizes: [Size2D], batch: Int = 1, device: Device = .cpu, precision: BenchPrecision = .fp32,
                train: Bool = false, warmup: Int = 3, repeats: Int = 10, numClasses: Int? = nil,
                baselines: OfficialTiming.Source? = .cpuBaselines, outputDirectory: URL? = nil) {
        self.models = models
        self.sizes = sizes
        self.batch = batch
        self.device = device
        self.precision = precision
        self.train = train
        self.warmup = warmup
        self.repeats = repeats
        self.numClasses = numClasses
        self.baselines = baselines
        self.outputDirectory = outputDirectory
    }

    /// Upper bound on timed calls per cell, whatever `minTimeSeconds` asks for.
    public static let maxRepeats = 10_000

    /// Checks everything a user can get wrong before any model is built.
    public func validate() throws {
        func fail(_ m: String) -> BenchmarkError { BenchmarkError(m) }
        guard !models.isEmpty else { throw fail("give at least one model") }
        guard !sizes.isEmpty else { throw fail("give at least one input size") }
        guard (1...256).contains(batch) else { throw fail("batch must be in 1...256, got \(batch)") }
        guard (0...1000).contains(warmup) else { throw fail("warm-up runs must be in 0...1000, got \(warmup)") }
        guard (1...Self.maxRepeats).contains(repeats) else { throw fail("repeats must be in 1...\(Self.maxRepeats), got \(repeats)") }
        guard minTimeSeconds.isFinite, (0...3600).contains(minTimeSeconds) else {
            throw fail("minimum timed seconds must be in 0...3600, got \(minTimeSeconds)")
        }
        guard (0...1000).contains(profileRuns) else { throw fail("profiled runs must be in 0...1000, got \(profileRuns)") }
        for size in sizes {
            guard (32...FlopCounter.maxSide).contains(size.height), (32...FlopCounter.maxSide).contains(size.width) else {
                throw fail("input size \(size) is outside 32...\(FlopCounter.maxSide) pixels a side")
            }
        }
        if let numClasses, !(1...100_000).contains(numClasses) {
            throw fail("number of classes must be in 1...100000, got \(numClasses)")
        }
        if cudaGraphs && (!device.isCUDA || train) { throw fail("CUDA graphs are for inference on a CUDA device") }
        if case .cuda(let i) = device {
            guard Torch.cuda.isAvailable else { throw fail("CUDA requested but unavailable: \(Torch.cuda.reason ?? "unknown reason")") }
            guard i < Torch.cuda.deviceCount else { throw fail("cuda:\(i) requested but only \(Torch.cuda.deviceCount) device(s) exist") }
        }
    }
}

public struct BenchmarkError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
