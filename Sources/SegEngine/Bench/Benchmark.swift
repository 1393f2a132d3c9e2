// Latency, throughput and peak memory of models across input sizes.

import Foundation
import Torch
import TorchIO
import SegModels

public enum Benchmark {
    /// Runs every model at every square size and returns one result per (model, size), models outermost.
    public static func run(models: [String], sizes: [Int], batch: Int = 1, device: Device = .cpu, dtype: BenchPrecision = .fp32,
                           train: Bool = false, warmup: Int = 3, repeats: Int = 10,
                           progress: ((String) -> Void)? = nil) throws -> [BenchResult] {
        try run(BenchOptions(models: models, sizes: sizes.map { Size2D.square($0) }, batch: batch, device: device,
                             precision: dtype, train: train, warmup: warmup, repeats: repeats), progress: progress)
    }

    public static func run(_ options: BenchOptions, progress: ((String) -> Void)? = nil) throws -> [BenchResult] {
        try options.validate()
        // Resolve every name before the first (long) measurement.
        for name in options.models { _ = try ModelRegistry.variant(name) }
        var results: [BenchResult] = []
        for name in options.models {
            for size in options.sizes {
                progress?("\(name) \(size) batch \(options.batch) \(options.precision.rawValue) on \(options.device)"
                    + (options.train ? " (training step)" : ""))
                results.append(try measure(name, size: size, options: options))
            }
        }
        return results
    }

    /// One (model, size) cell. The model is built inside the memory window so that, as in the official
    /// figures, the peak covers weights + run; a fresh model per size keeps sizes independent.
    static func measure(_ name: String, size: Size2D, options: BenchOptions) throws -> BenchResult {
        let device = options.device, precision = options.precision
        if device.isCUDA { Torch.cudnnBenchmark = true }  // one input size per cell
        let window = MemoryProbe.start(device: device)
        let model = try ModelRegistry.segmentation(name, numClasses: options.numClasses)
        model.to(device: device)  // float32 master weights; autocast lowers the arithmetic
        let x = try Tensor.Checked.randn([options.batch, 3, size.height, size.width], dtype: .float32, device: device)

        let step: () throws -> Void
        let mode: String
        if options.train {
            let trainer = BenchTrainingStep(model: model, loss: try ModelRegistry.family(of: name).loss, input: x, precision: precision)
            step = { try Torch.catchingOutOfMemory { trainer.run() } }
            mode = BenchTrainingStep.label
        } else if options.cudaGraphs {
            model.eval()
            let graphed = try Torch.inferenceMode { try GraphedFunction(example: x) { x in precision.run(on: device) { model.logits(x) } } }
            step = { _ = try Torch.inferenceMode { try graphed(x) } }
            mode = "inference (CUDA graph)"
        } else {
            model.eval()
            let optimized = InferencePreparation.prepare(model, device: device, precision: precision, plain: !options.optimizeInference)
            step = { try Torch.catchingOutOfMemory { Torch.inferenceMode { _ = precision.run(on: device) { model.logits(x) } } } }
            mode = optimized ? "inference (optimized)" : "inference"
        }

        var samples: [Double] = [], cpu: [Double] = []
        var call = 0, timedMs = 0.0
        func wantsMore() -> Bool {
            call < options.warmup || samples.count < options.repeats
                || (timedMs < options.minTimeSeconds * 1000 && samples.count < BenchOptions.maxRepeats)
        }
        while wantsMore() {
            Torch.synchronize(device)
            let start = MonotonicClock.nanoseconds(), cpuStart = ProcessCPUClock.nanoseconds()
            try step()
            Torch.synchronize(device)
            let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e6
            if call >= options.warmup {
                samples.append(elapsed)
                timedMs += elapsed
                cpu.append(Double(ProcessCPUClock.nanoseconds() - cpuStart) / 1e6)
            }
            call += 1
        }
        let peak = MemoryProbe.finish(window)
        var profile: String? = nil
        if options.profileRuns > 0 {
            let (_, p) = try OpProfiler.record(shapes: options.profileShapes) { for _ in 0..<options.profileRuns { try step() } }
            profile = p.table(top: options.profileRows, runs: options.profileRuns)
        }
        let latency = LatencyStats(samplesMs: samples)
        let official = device == .cpu ? options.baselines.flatMap {
            ModelRegistry.officialTiming(model: model.name, height: size.height, width: size.width, batch: options.batch,
                                   train: options.train, dtype: options.precision.dtype, source: $0)
        } : nil
        return BenchResult(model: model.name, height: size.height, width: size.width, batch: options.batch,
                           device: device.description, precision: options.precision, train: options.train, mode: mode,
                           threads: Torch.threads, parameters: model.parameterCount, warmup: options.warmup, latency: latency,
                           imagesPerSecond: Double(options.batch) / (latency.medianMs / 1000), peakMemoryBytes: peak,
                           memoryMethod: window.method, official: official,
                           cpuMedianMs: LatencyStats(samplesMs: cpu).medianMs, profile: profile)
    }
}

/// One optimisation step as the official recipe does it: zero_grad, forward, the family's loss (per-pixel
/// cross-entropy on the logits resized to the input, ignore 255, for most) on random labels, backward, AdamW
/// (lr 6e-5, weight decay 0.01).
final class BenchTrainingStep {
    static let label = "train step (AdamW)"
    let model: any SegmentationModel
    let loss: SegmentationLoss
    let input: Tensor
    let labels: Tensor
    let optimizer: AdamW
    let precision: Precision
    let scaler: GradScaler?

    init(model: any SegmentationModel, loss: SegmentationLoss, input: Tensor, precision: Precision = .fp32) {
        self.model = model
        self.loss = loss
        self.input = input
        self.precision = precision
        labels = Tensor.randint(0, model.numClasses, [input.size(0), input.size(2), input.size(3)], device: input.device)
        // PyTorch's default implementation: foreach on CUDA, one kernel per tensor on the CPU.
        optimizer = AdamW(model.parameters, lr: 6e-5, weightDecay: 0.01,
                          implementation: OptimizerImplementation.defaultChoice(for: model.parameters))
        scaler = precision.usesGradScaler ? GradScaler(device: input.device) : nil
        model.train()
    }

    func run() {
        optimizer.zeroGrad()
        let value = precision.run(on: input.device) { loss(model.trainingOutputs(input), labels: labels).total }
        if let scaler {
            scaler.scale(value).backward()
            scaler.step(optimizer)
            scaler.update()
        } else {
            value.backward()
            optimizer.step()
        }
    }
}
