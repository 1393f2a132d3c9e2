import ArgumentParser
import Foundation
import TorchIO
import SegEngine
import Torch

struct FlopsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flops",
        abstract: "Count FLOPs of a real forward pass (mmengine/fvcore convention: 1 multiply-add = 1 FLOP).")

    @Option(name: .long, help: "Model name, or several separated by commas.") var model: String
    @Option(name: .long, help: "Input size HxW or a square side; several separated by commas.") var size: String = "512"
    @Option(name: .long, help: "Number of classes.") var numClasses: Int?
    @Flag(name: .long, help: "JSON output.") var json = false
    @Option(name: .long, help: "Also write flops.txt and flops.json into this folder.") var out: String?

    func run() throws {
        let sizes = try size.split(separator: ",").map { try Size2D.parse(String($0)) }
        let models = model.split(separator: ",").map { String($0) }
        let folder = try out.map { try prepareOutputFolder($0, "--out") }  // before counting, not after
        let output = try FlopsTool.run(FlopsOptions(models: models, sizes: sizes, numClasses: numClasses, outputDirectory: folder))
        print(json ? output.json : output.text)
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Latency, throughput and peak memory per model and resolution (inference or a training step).",
        discussion: """
            CPU float32 inference runs the model optimized for inference (folded BatchNorm, oneDNN-prepacked weights, fused \
            activations; --plain for the plain forward). --compare times plain and optimized alternately in one process, \
            the robust A/B figure on a busy machine; --profile N adds a per-operator table of N more calls. \
            scripts/bench-cpu.sh repeats runs in fresh processes.
            """)

    @Option(name: .long, help: "Models, separated by commas.") var models: String
    @Option(name: .long, help: "Square sizes (or HxW), separated by commas.") var sizes: String = "512,1024"
    @Option(name: .long, parsing: .unconditional) var batch: Int = 1
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(name: .long, help: "fp32, autocast bf16 / fp16 (float32 weights, as PyTorch's AMP), or bf16-encoder / fp16-encoder (decode head in fp32).") var precision: Precision = .fp32
    @Flag(name: .long, help: "CUDA inference: capture once per size and replay a CUDA graph.") var cudaGraphs = false
    @Flag(name: .long, help: "Time a full training step (forward, loss, backward, AdamW).") var train = false
    @Option(name: .long, parsing: .unconditional) var warmup: Int = 3
    @Option(name: .long, parsing: .unconditional, help: "Timed calls per model and size, at least.") var repeats: Int = 10
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("More timed calls until this many seconds are timed (0: exactly --repeats).",
        discussion: "A longer window keeps one slow stretch of a shared machine from moving the median."))
    var minTime: Double = 10
    @Flag(name: .long, help: "Time the plain forward, not the model optimized for inference.") var plain = false
    @Flag(name: .long, help: "Time plain and optimized inference alternately in this process and compare them.") var compare = false
    @Option(name: .long, help: "After timing, profile this many more calls per operator (0: off).") var profile: Int = 0
    @Flag(name: .long, help: "Profile per operator and input shapes.") var profileShapes = false
    @Option(name: .long, help: "Rows of the profile table.") var profileRows: Int = 25
    @Option(name: .long, help: "Folder for bench.md, bench.json and bench.svg.") var out: String?

    func validate() throws {
        guard batch > 0, warmup >= 0, repeats > 0, profile >= 0, minTime >= 0, minTime.isFinite else {
            throw ValidationError("--batch and --repeats must be positive, --warmup, --profile and --min-time >= 0")
        }
        if compare && (train || plain) { throw ValidationError("--compare times inference, plain against optimized: drop --train/--plain") }
    }

    func run() throws {
        let folder = try out.map { try prepareOutputFolder($0, "--out") }  // before measuring, not after
        var options = BenchOptions(
            models: models.split(separator: ",").map { String($0) },
            sizes: try sizes.split(separator: ",").map { try Size2D.parse(String($0)) },
            batch: batch, device: try deviceOptions.resolve(), precision: precision, train: train, warmup: warmup, repeats: repeats,
            outputDirectory: folder)
        options.cudaGraphs = cudaGraphs
        options.minTimeSeconds = minTime
        options.optimizeInference = !plain
        options.profileRuns = profile
        options.profileShapes = profileShapes
        options.profileRows = profileRows
        if options.device == .cpu { print(CPUFeatures.current.bfloat16Note) }
        if compare {
            let rows = try Benchmark.compareInference(options) { print($0) }
            print(InferenceComparison.markdown(rows))
            for r in rows {
                if let p = r.plainProfile { print("\n\(r.model) \(r.height)x\(r.width), plain, per call:\n\(p)") }
                if let p = r.optimizedProfile { print("\n\(r.model) \(r.height)x\(r.width), optimized, per call:\n\(p)") }
            }
            return
        }
        let output = try Benchmark.report(options) { print($0) }
        print(output.report.markdown)
        for r in output.report.results {
            if let cpu = r.cpuMedianMs { print("\(r.model) \(r.height)x\(r.width): median process CPU time \(String(format: "%.0f", cpu)) ms per call") }
            if let p = r.profile { print("\n\(r.model) \(r.height)x\(r.width), \(r.mode), per call:\n\(p)") }
        }
        for f in output.files { print("wrote \(f.path)") }
    }
}

extension Precision: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
