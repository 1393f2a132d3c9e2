import ArgumentParser
import Foundation
import SegData
import SegEngine
import SegModels
import Torch
import TorchIO

/// A failure while a command runs (a missing file, an unwritable folder, an unavailable device). ArgumentParser
/// prints it as "Error: <message>"; a `ValidationError` (for problems with the arguments themselves, thrown from
/// `validate()`) would add the usage text, which says nothing about such failures.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Flags shared by the commands that build a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model name (see `swiftseg models`).")
    var model: String

    @Option(name: .long, help: "Number of classes (default: the model's own).")
    var numClasses: Int?

    func validate() throws {
        if let k = numClasses, k <= 0 { throw ValidationError("--num-classes must be positive") }
    }
}

/// `auto`, `cpu`, `cuda` or `cuda:N`.
enum DeviceChoice: ExpressibleByArgument, Equatable, CustomStringConvertible {
    case auto
    case cpu
    case cuda(Int)

    init?(argument: String) {
        switch argument.lowercased() {
        case "auto": self = .auto
        case "cpu": self = .cpu
        case "cuda": self = .cuda(0)
        default:
            guard argument.lowercased().hasPrefix("cuda:"), let i = Int(argument.dropFirst(5)), i >= 0 else { return nil }
            self = .cuda(i)
        }
    }

    static var allValueStrings: [String] { ["auto", "cpu", "cuda", "cuda:N"] }

    var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        }
    }

    /// The device to run on: CUDA when asked for (an error if unavailable), `auto` picks CUDA when present.
    func resolve() throws -> Device {
        switch self {
        case .auto: return Torch.cuda.isAvailable ? .cuda(0) : .cpu
        case .cpu: return .cpu
        case .cuda(let i):
            guard Torch.cuda.isAvailable else {
                throw CLIError("--device \(self): CUDA is unavailable (\(Torch.cuda.reason ?? "unknown reason")); see `swiftseg info`")
            }
            guard i < Torch.cuda.deviceCount else {
                throw CLIError("--device \(self): only \(Torch.cuda.deviceCount) CUDA device(s)")
            }
            return .cuda(i)
        }
    }
}

struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.")
    var device: DeviceChoice = .cpu

    func resolve() throws -> Device { try device.resolve() }
}

extension Size2D: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension DatasetKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension TestMode: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// Overrides of a family's official test protocol (`eval`, `predict`); unset flags keep the official values.
struct TestProtocolOptions: ParsableArguments {
    @Option(name: .long, help: "whole or slide (default: the family's official protocol for the dataset).")
    var mode: TestMode?
    @Option(name: .long, help: "Slide window HxW or a square side.")
    var crop: Size2D?
    @Option(name: .long, help: "Slide step HxW or a square side (at most the window).")
    var stride: Size2D?
    @Option(name: .long, help: "Test short side; the long side is bounded at 4x it (mmseg's (2048, 512) for 512).")
    var shortSide: Int?
    @Option(name: .long, help: "Round the resized image to a multiple of N, or `none`.")
    var sizeDivisor: String?
    @Flag(name: .long, help: "Multi-scale + flip test-time augmentation with the family's rule (ratios 0.5-1.75).")
    var tta = false

    func validate() throws {
        if let s = shortSide, s < 1 { throw ValidationError("--short-side must be positive") }
        if let d = sizeDivisor, d != "none", (Int(d) ?? 0) <= 0 { throw ValidationError("--size-divisor must be a positive integer or `none`") }
    }

    func apply(to settings: inout EvaluationSettings) {
        var changed = false
        if let mode { settings.test.mode = mode; changed = true }
        if let crop { settings.test.slideCrop = crop; changed = true }
        if let stride { settings.test.slideStride = stride; changed = true }
        if let shortSide { settings.test.scale = ResizeScale(longSide: 4 * shortSide, shortSide: shortSide); changed = true }
        if let sizeDivisor { settings.test.sizeDivisor = Int(sizeDivisor); changed = true }
        settings.tta = tta
        if changed { settings.source += " with command-line overrides" }
    }
}

/// `--precision`: float32, or autocast in bf16 / fp16 around the forward pass.
struct PrecisionOption: ParsableArguments {
    @Option(name: .long, help: "fp32, autocast bf16 / fp16 (float32 weights, as PyTorch's AMP), or bf16-encoder / fp16-encoder (decode head in fp32).")
    var precision: Precision = .fp32
}

/// `--plain`: the plain forward instead of the model optimized for CPU inference.
struct InferencePathOption: ParsableArguments {
    @Flag(name: .long, help: "Run the plain forward, not the model optimized for CPU inference (float32 on the CPU only).")
    var plain = false
}

/// Process settings for inference over many images, called before the first op: oneDNN keeps a compiled kernel per
/// layer and input size, up to 1024 of them, so over a folder of images of many sizes the resident set grows by
/// hundreds of MB. Plain inference at one size uses about 85 (LRFormer-T), so 256 keeps a few sizes warm; TTA runs
/// six sizes per image and keeps oneDNN's default. ONEDNN_PRIMITIVE_CACHE_CAPACITY overrides both.
func prepareProcessForInference(tta: Bool) {
    if !tta { Torch.boundPrimitiveCache(256) }
}

/// An existing file or folder given on the command line.
func existingPath(_ path: String, _ what: String) throws -> URL {
    let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw CLIError("\(what) not found: \(path)")
    }
    return url
}

/// The data set kind of a folder: the one given, else the detected layout. Warns when a given kind contradicts a
/// synthetic set's own classes file.
func datasetKind(_ given: DatasetKind?, root: URL) throws -> DatasetKind {
    let detected = try? DatasetLayout.detect(root: root)
    if let given {
        if given != .synth, detected == .synth {
            printWarning("\(root.path) holds a synthetic data set (\(SynthDataset.classesFileName)); with --dataset \(given.rawValue) "
                + "its classes are read as \(given.rawValue)'s. Use --dataset synth (or leave --dataset out) to use its own classes.")
        }
        return given
    }
    guard let detected else {
        _ = try DatasetLayout.detect(root: root)  // throws the message listing what was looked for
        throw CLIError("cannot tell the data set layout of \(root.path); pass --dataset")
    }
    return DatasetKind(layout: detected)
}

extension DatasetKind {
    init(layout: DatasetLayout) {
        switch layout {
        case .ade20k: self = .ade20k
        case .cityscapes: self = .cityscapes
        case .cocoStuff164k: self = .cocoStuff
        case .folder: self = .folder
        case .synth: self = .synth
        }
    }
}

func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

/// Fails early when a result file would destroy a user's file: it is, or lies inside, one of the run's `inputs`
/// (a dataset root, a checkpoint, an input tensor), or it exists with another extension than the results' own
/// (`eval --out` on an image); then checks it can be written. Replacing an earlier result of the same kind is fine.
func checkResultFile(_ url: URL, _ what: String, extension ext: String, inputs: [URL]) throws {
    let resolved = { (u: URL) in u.resolvingSymlinksInPath().standardizedFileURL.path }
    let target = resolved(url)
    if let input = inputs.first(where: { target == resolved($0) || target.hasPrefix(resolved($0) + "/") }) {
        throw CLIError("\(what) \(url.path) would replace \(target == resolved(input) ? "" : "a file in ")an input of this run (\(input.path)); choose another path")
    }
    try checkWritable(url, what)  // folders, devices and FIFOs are named as such
    if FileManager.default.fileExists(atPath: url.path), url.pathExtension.lowercased() != ext {
        throw CLIError("\(what) \(url.path) exists and is not a .\(ext) file: not replaced; choose another path")
    }
}

/// Fails early when `url` (a file to be written) cannot be: its folder is missing, read-only or not writable, or
/// it is a folder or a device (which an atomic write would replace).
func checkWritable(_ url: URL, _ what: String) throws {
    if let problem = FileAccess.writeProblem(url) { throw CLIError("\(what) \(url.path): \(problem)") }
}

/// Creates an output folder and checks that it can be written, before any work is done.
func prepareOutputFolder(_ path: String, _ what: String) throws -> URL {
    let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    if let problem = FileAccess.prepareFolder(url) { throw CLIError("\(what) \(url.path): \(problem)") }
    return url
}
