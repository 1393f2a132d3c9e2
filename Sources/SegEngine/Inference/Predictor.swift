import Foundation
import SegData
import SegModels
import Torch
import TorchIO

/// Segments image files: writes a palette label PNG per image and, optionally, a colour overlay. Decoding and
/// resizing of the next image and PNG encoding of the previous one run beside the model's forward pass. Never
/// writes over an input, never lets two inputs share an output name, and goes on past an unreadable image.
public struct Predictor {
    public let loaded: ModelLoader.Loaded
    public var settings: EvaluationSettings
    public var device: Device = .cpu

    public init(loaded: ModelLoader.Loaded, settings: EvaluationSettings, device: Device = .cpu) {
        self.loaded = loaded
        self.settings = settings
        self.device = device
    }

    /// Class map of one image at its original size.
    public func segment(_ image: Image) throws -> LabelMap {
        if let tta = settings.augmentation { return try segmentAugmented(image, tta: tta) }
        let x = try Tensor(image: settings.pipeline.apply(image)).checked.to(device: device)
        return try segment(input: x, size: Size2D(image.height, image.width))
    }

    /// The class map of a prepared input at `size`, without materialising K x H x W scores.
    func segment(input x: Tensor, size: Size2D) throws -> LabelMap {
        let classes: [UInt8] = try Torch.inferenceMode {
            try SegmentationInference.classMap(loaded.model, x, mode: settings.inferenceMode, outputSize: size,
                                               constraints: settings.constraints, precision: settings.precision)
                .to(dtype: .uint8, device: .cpu).toArray(UInt8.self)
        }
        return LabelMap(width: size.width, height: size.height, labels: classes)
    }

    /// Image files of a folder (sorted) or the single file given. `recursive`: of the whole tree below the folder too
    /// (sorted by path; hidden files and folders, and anything under `excluding`, the output folder, left out).
    public static func inputs(_ url: URL, recursive: Bool = false, excluding: URL? = nil) throws -> [URL] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw EngineError("input not found: \(url.path)")
        }
        guard isDir.boolValue else { return [url] }
        let files: [URL]
        if recursive {
            // The output folder inside the tree holds earlier runs' label maps, not inputs (the tree itself as output
            // folder excludes nothing: writing over inputs is refused by `outputNames`).
            let resolved = { (u: URL) in u.resolvingSymlinksInPath().standardizedFileURL.path }
            let skipped = excluding.map(resolved).flatMap { $0 == resolved(url) ? nil : $0 + "/" }
            files = (FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil, options: .skipsHiddenFiles)?
                .compactMap { $0 as? URL } ?? [])
                .filter { file in isImageName(file) && !(skipped.map { resolved(file).hasPrefix($0) } ?? false) }
                .sorted { $0.path < $1.path }
        } else {
            files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter(isImageName).sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
        guard !files.isEmpty else {
            // A dataset root or a folder of folders: say where the images are rather than only that none are here.
            let below = recursive ? nil : FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)?
                .lazy.compactMap { $0 as? URL }.filter(isImageName).first
            let hint = below.map { " (there are some further down, e.g. \($0.path): --recursive reads the subfolders too)" } ?? ""
            throw EngineError("no .jpg/.jpeg/.png images in \(url.path)" + hint)
        }
        return files
    }

    /// The folders between `root` and `file` ([] for a file directly in `root`).
    public static func subfolders(of file: URL, under root: URL) -> [String] {
        let folder = file.deletingLastPathComponent().standardizedFileURL.pathComponents
        let base = root.standardizedFileURL.pathComponents
        return folder.starts(with: base) ? Array(folder.dropFirst(base.count)) : []
    }

    static func isImageName(_ url: URL) -> Bool {
        ["jpg", "jpeg", "png"].contains(url.pathExtension.lowercased()) && !url.lastPathComponent.hasPrefix(".")
    }

    /// The output files of each input: `<stem>.png` (and `<stem>_overlay.png`), or `<stem>_<ext>.png` for inputs whose
    /// stems clash (`x.jpg` and `x.png`). Throws, before anything is written, if an output would replace an input.
    /// With `root` (a recursive run), each input's folders below `root` are repeated below `outputDir`.
    public static func outputNames(for inputs: [URL], in outputDir: URL, overlay: Bool, root: URL? = nil) throws -> [(label: URL, overlay: URL?)] {
        let folders = inputs.map { url in
            (root.map { subfolders(of: url, under: $0) } ?? []).reduce(outputDir) { $0.appendingPathComponent($1) }
        }
        let stems = zip(inputs, folders).map { $1.appendingPathComponent($0.deletingPathExtension().lastPathComponent).path }
        var counts: [String: Int] = [:]
        for s in stems { counts[s, default: 0] += 1 }
        let names: [(URL, URL?)] = zip(inputs, stems).map { url, stem in
            let base = counts[stem]! > 1 ? "\(stem)_\(url.pathExtension.lowercased())" : stem
            return (URL(fileURLWithPath: "\(base).png"), overlay ? URL(fileURLWithPath: "\(base)_overlay.png") : nil)
        }
        var seen: [String: URL] = [:]
        for (i, pair) in names.enumerated() {
            for out in [pair.0] + (pair.1.map { [$0] } ?? []) {
                if let other = seen[out.standardizedFileURL.path] {
                    throw EngineError("\(inputs[i].lastPathComponent) and \(other.lastPathComponent) would both be written to \(out.path); rename one")
                }
                seen[out.standardizedFileURL.path] = inputs[i]
            }
        }
        let inputPaths = Set(inputs.map { $0.resolvingSymlinksInPath().standardizedFileURL.path })
        let clobbered = names.flatMap { [$0.0] + ($0.1.map { [$0] } ?? []) }
            .filter { inputPaths.contains($0.resolvingSymlinksInPath().standardizedFileURL.path) }
        if !clobbered.isEmpty {
            throw EngineError("writing predictions into \(outputDir.path) would replace input images ("
                + clobbered.prefix(5).map(\.lastPathComponent).joined(separator: ", ") + (clobbered.count > 5 ? ", ..." : "")
                + "); choose another --out folder")
        }
        return names
    }

    /// What a run wrote and what it could not read.
    public struct Report {
        public var written: [URL] = []
        public var failures: [(input: URL, error: Error)] = []
        /// Seconds in the model (forward pass and class map) and in the whole run.
        public var modelSeconds: Double = 0
        public var wallSeconds: Double = 0
        public var images: Int = 0
        public var imagesPerSecond: Double { wallSeconds > 0 ? Double(images) / wallSeconds : 0 }
        public var modelShare: Double { wallSeconds > 0 ? modelSeconds / wallSeconds : 0 }
    }

    /// Segments every input. An image that cannot be read or segmented is reported and skipped (unless `stopOnError`);
    /// the caller decides the exit status from `report.failures`.
    /// `root`: the folder a recursive run read; outputs repeat the inputs' subfolders below it.
    public func run(inputs: [URL], outputDir: URL, overlay: Bool, opacity: Double, stopOnError: Bool = false, root: URL? = nil,
                    progress: ((Int, Int, URL, Error?) -> Void)? = nil) throws -> Report {
        try Self.prepareOutputFolder(outputDir)
        let names = try Self.outputNames(for: inputs, in: outputDir, overlay: overlay, root: root)
        for folder in Set(names.map { $0.label.deletingLastPathComponent() }) where folder.standardizedFileURL != outputDir.standardizedFileURL {
            try Self.prepareOutputFolder(folder)
        }
        let pipeline = settings.pipeline
        let tta = settings.augmentation
        // Decode + resize + normalise ahead of the model on a background thread.
        let prefetch = Prefetcher<Result<(Image, NormalizedImage?), Error>>(depth: 2, name: "SwiftSeg.Predictor") { i in
            guard i < inputs.count else { return nil }
            return Result {
                let image = try ImageIO.readImage(inputs[i]).rgb()
                return (image, tta == nil ? pipeline.apply(image) : nil)
            }
        }
        defer { prefetch.stop() }
        // PNG encoding and writing of finished images beside the next forward pass (at most 2 waiting).
        let writer = BackgroundWriter(limit: 2)
        var report = Report()
        let start = Date()
        for i in inputs.indices {
            let result: Result<(Image, NormalizedImage?), Error> = try prefetch.next()
                ?? .failure(EngineError("internal: the image reader stopped early"))
            do {
                let (image, normalized) = try result.get()
                let size = Size2D(image.height, image.width)
                let t0 = Date()
                let labels: LabelMap
                if let tta {
                    labels = try segmentAugmented(image, tta: tta)
                } else {
                    labels = try segment(input: Tensor(image: normalized!).checked.to(device: device), size: size)
                }
                report.modelSeconds += Date().timeIntervalSince(t0)
                let (labelURL, overlayURL) = names[i]
                let palette = loaded.palette
                writer.submit {
                    try ImageIO.writeLabelPNG(labels, palette: palette, to: labelURL)
                    if let overlayURL {
                        try ImageIO.writePNG(ImageIO.overlay(image: image, labels: labels, palette: palette, opacity: opacity), to: overlayURL)
                    }
                }
                report.written.append(labelURL)
                if let overlayURL { report.written.append(overlayURL) }
                report.images += 1
                progress?(i + 1, inputs.count, inputs[i], nil)
            } catch {
                report.failures.append((inputs[i], error))
                progress?(i + 1, inputs.count, inputs[i], error)
                if stopOnError { break }
            }
            if let e = writer.firstError { throw e }  // a full disk or unwritable folder stops the run
        }
        try writer.finish()
        report.wallSeconds = Date().timeIntervalSince(start)
        return report
    }

    func segmentAugmented(_ image: Image, tta: TestTimeAugmentation) throws -> LabelMap {
        let size = Size2D(image.height, image.width)
        let classes: [UInt8] = try Torch.inferenceMode {
            try Evaluator(settings: settings, device: device)
                .augmentedProbabilities(loaded.model, image: image, tta: tta, normalize: settings.pipeline.normalize, size: size)
                .argmax(dim: 1).to(dtype: .uint8, device: .cpu).toArray(UInt8.self)
        }
        return LabelMap(width: size.width, height: size.height, labels: classes)
    }

    /// Creates the output folder, and checks it can be written before any work is done.
    static func prepareOutputFolder(_ dir: URL) throws {
        if let problem = FileAccess.prepareFolder(dir) { throw EngineError("output folder \(dir.path): \(problem)") }
    }
}

/// Runs write jobs one after another on a background queue, with at most `limit` waiting; remembers the first error.
final class BackgroundWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "SwiftSeg.writer")
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var error: Error?

    init(limit: Int) { slots = DispatchSemaphore(value: limit) }

    var firstError: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }

    func submit(_ job: @escaping () throws -> Void) {
        slots.wait()
        queue.async {
            defer { self.slots.signal() }
            do { try job() } catch {
                self.lock.lock()
                if self.error == nil { self.error = error }
                self.lock.unlock()
            }
        }
    }

    /// Waits for every job; throws the first error.
    func finish() throws {
        queue.sync {}
        if let e = firstError { throw e }
    }
}
