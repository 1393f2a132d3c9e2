// What `swiftseg flops` runs: parsed options in, rendered text/JSON out, files written when asked.

import Foundation
import Torch
import TorchIO
import SegModels

public struct FlopsOptions: Sendable {
    /// Model zoo names; "lrformer-<v>-backbone" counts a bare LRFormer encoder (e.g. XL, which has no LRHead upstream).
    public var models: [String]
    public var sizes: [Size2D]
    /// nil: each model's default (150 for ADE20K models).
    public var numClasses: Int?
    public var batch: Int
    /// When set, `flops.txt` and `flops.json` are written there.
    public var outputDirectory: URL?

    public init(models: [String], sizes: [Size2D] = [Size2D.square(512)], numClasses: Int? = nil, batch: Int = 1,
                outputDirectory: URL? = nil) {
        self.models = models
        self.sizes = sizes
        self.numClasses = numClasses
        self.batch = batch
        self.outputDirectory = outputDirectory
    }
}

public struct FlopsOutput: Sendable {
    public var reports: [FlopReport]
    public var text: String
    public var json: String
    public var files: [URL]
}

public enum FlopsTool {
    /// Counts every model at every size (building each model once).
    public static func run(_ options: FlopsOptions, progress: ((String) -> Void)? = nil) throws -> FlopsOutput {
        guard !options.models.isEmpty, !options.sizes.isEmpty else { throw FlopCounterError("give at least one model and one size") }
        guard (1...64).contains(options.batch) else { throw FlopCounterError("batch must be in 1...64, got \(options.batch)") }
        for size in options.sizes { try FlopCounter.validate([options.batch, 3, size.height, size.width], channels: 3) }
        var reports: [FlopReport] = []
        for name in options.models {
            let counter = try makeCounter(name, numClasses: options.numClasses)
            for size in options.sizes {
                progress?("counting \(name) at \(size)")
                reports.append(try counter([options.batch, 3, size.height, size.width]))
            }
        }
        let text = reports.map(\.text).joined(separator: "\n")
        let json = FlopReport.encode(reports.map { FlopReportDocument(report: $0, reference: $0.reference) })
        var files: [URL] = []
        if let dir = options.outputDirectory {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for (file, content) in [("flops.txt", text), ("flops.json", json)] {
                    let url = dir.appendingPathComponent(file)
                    try Data(content.utf8).write(to: url, options: .atomic)
                    files.append(url)
                }
            } catch {
                throw FlopCounterError("cannot write the FLOP report to \(dir.path): \(FileAccess.reason(error))")
            }
        }
        return FlopsOutput(reports: reports, text: text, json: json, files: files)
    }

    /// A counting function for a model name: segmentation models trace `logits`, backbones their `features`
    /// (scoped "backbone"), classifiers their plain forward.
    static func makeCounter(_ name: String, numClasses: Int?) throws -> ([Int]) throws -> FlopReport {
        let lower = name.lowercased()
        let module = try ModelRegistry.build(lower, numClasses: numClasses)
        if let model = module as? any SegmentationModel {
            return { try FlopCounter.count(model: model, input: $0) }
        }
        if let encoder = module as? any FeatureExtractor {
            return { try FlopCounter.count(module: encoder, name: lower, input: $0, scope: "backbone") { encoder.features($0) } }
        }
        return { try FlopCounter.count(module: module, name: lower, input: $0) { module($0) } }
    }
}
