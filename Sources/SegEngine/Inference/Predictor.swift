import Foundation
import SegData
import SegModels
import Torch
import TorchIO

/// Segments image files: writes a palette label PNG per image and, optionally, a colour overlay.
public struct Predictor {
    public let loaded: ModelLoader.Loaded
    public var pipeline: TestPipeline
    public var mode: InferenceMode = .whole
    public var device: Device = .cpu

    public init(loaded: ModelLoader.Loaded, pipeline: TestPipeline = .ade20k(), mode: InferenceMode = .whole, device: Device = .cpu) {
        self.loaded = loaded
        self.pipeline = pipeline
        self.mode = mode
        self.device = device
    }

    /// Class map of one image at its original size.
    public func segment(_ image: Image) throws -> LabelMap {
        let x = try Tensor(image: pipeline.apply(image)).checked.to(device: device)
        let classes = Torch.inferenceMode {
            SegmentationInference.probabilities(loaded.model, x, mode: mode, outputSize: (image.height, image.width))
                .argmax(dim: 1).to(dtype: .uint8, device: .cpu).toArray(UInt8.self)
        }
        return LabelMap(width: image.width, height: image.height, labels: classes)
    }

    /// Image files of a folder (sorted) or the single file given.
    public static func inputs(_ url: URL) throws -> [URL] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw TorchError("predict", "input not found: \(url.path)")
        }
        guard isDir.boolValue else { return [url] }
        let exts: Set<String> = ["jpg", "jpeg", "png"]
        let files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .filter { exts.contains($0.pathExtension.lowercased()) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !files.isEmpty else { throw TorchError("predict", "no .jpg/.png images in \(url.path)") }
        return files
    }

    /// Writes `<stem>.png` (palette labels) and `<stem>_overlay.png`; returns the written files.
    @discardableResult
    public func run(inputs: [URL], outputDir: URL, overlay: Bool, opacity: Double, progress: ((Int, Int, URL) -> Void)? = nil) throws -> [URL] {
        try FileManager.default.createDirectory(at: outputDir, withIntermediateDirectories: true)
        var written: [URL] = []
        for (i, url) in inputs.enumerated() {
            let image = try ImageIO.readImage(url)
            guard image.width >= 32, image.height >= 32 else {
                throw TorchError("predict", "\(url.path): image is \(image.width)x\(image.height); at least 32x32 is needed")
            }
            let labels = try segment(image)
            let stem = url.deletingPathExtension().lastPathComponent
            let labelURL = outputDir.appendingPathComponent("\(stem).png")
            try ImageIO.writeLabelPNG(labels, palette: loaded.palette, to: labelURL)
            written.append(labelURL)
            if overlay {
                let o = ImageIO.overlay(image: image, labels: labels, palette: loaded.palette, opacity: opacity)
                let overlayURL = outputDir.appendingPathComponent("\(stem)_overlay.png")
                try ImageIO.writePNG(o, to: overlayURL)
                written.append(overlayURL)
            }
            progress?(i + 1, inputs.count, url)
        }
        return written
    }
}
