// Benchmark results as a Markdown table, JSON and an SVG chart (latency and memory against resolution).

import Foundation
import SegModels
import Torch
import TorchIO

public struct BenchReport: Sendable {
    public var results: [BenchResult]

    public init(results: [BenchResult]) { self.results = results }

    /// Models in first-seen order.
    var modelNames: [String] { results.reduce(into: [String]()) { if !$0.contains($1.model) { $0.append($1.model) } } }
    /// Sizes in first-seen order.
    var sizes: [Size2D] {
        results.reduce(into: [Size2D]()) { list, r in
            let s = Size2D(r.height, r.width)
            if !list.contains(s) { list.append(s) }
        }
    }

    public var markdown: String {
        var table = MarkdownTable(
            headers: ["model", "input", "batch", "device", "dtype", "mode", "median ms", "min / max ms", "p90 ms", "images/s",
                      "peak mem MiB", "official median ms", "ours/official", "official mem MiB", "mem ours/official"],
            alignments: [.left, .left, .right, .left, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right,
                         .right])
        for r in results {
            table.addRow([
                r.model, "\(r.height)x\(r.width)", "\(r.batch)", r.device, r.precision.rawValue, r.mode,
                Self.ms(r.latency.medianMs), "\(Self.ms(r.latency.minMs)) / \(Self.ms(r.latency.maxMs))", Self.ms(r.latency.p90Ms),
                String(format: "%.2f", r.imagesPerSecond), r.peakMemoryMiB.map { String(format: "%.0f", $0) } ?? "n/a",
                r.official.map { Self.ms($0.medianMs) } ?? "-", r.latencyRatio.map { String(format: "%.2fx", $0) } ?? "-",
                r.official?.peakIncreaseMiB.map { String(format: "+%.0f", $0) } ?? (r.official?.peakRSSMiB.map { String(format: "%.0f (total)", $0) } ?? "-"),
                r.memoryRatio.map { String(format: "%.2fx", $0) } ?? "-",
            ])
        }
        let calls = results.map(\.latency.samplesMs.count)
        let timed = calls.min() == calls.max() ? "\(calls.first ?? 0)" : "\(calls.min() ?? 0)-\(calls.max() ?? 0)"
        var notes = ["Latency: wall clock (monotonic) of one call after \(results.first?.warmup ?? 0) warm-up call(s); "
            + "\(timed) timed call(s) per cell; libtorch threads: \(results.first?.threads ?? 0)."]
        let methods = Set(results.map(\.memoryMethod.rawValue)).sorted()
        notes.append("Peak memory: \(methods.joined(separator: ", ")); on the CPU the resident set is process-wide and the model "
            + "build is inside the window (as the official \"+N MB\" figures); on CUDA the allocator's peak, n/a where the shim cannot report it.")
        if results.contains(where: { $0.device == "cpu" }) { notes.append(CPUFeatures.current.bfloat16Note + ".") }
        if let unsteady = unsteadyNote { notes.append(unsteady) }
        if results.contains(where: { $0.official != nil }) {
            let sources = Set(results.compactMap { $0.official.map { "\($0.source.rawValue) (\($0.configuration))" } }).sorted()
            notes.append("Official: PyTorch 2.11 on the 2-vCPU build machine, " + sources.joined(separator: "; ")
                + ". Ratios below 1 mean SwiftSeg is faster / smaller.")
        }
        return table.render() + "\n" + notes.map { "- " + $0 }.joined(separator: "\n") + "\n"
    }

    /// Cells whose timed calls drifted by more than this between the window's halves are flagged.
    static let unsteadyDrift = 0.05

    /// Names the cells whose speed moved during their own timing window, or nil when none did.
    var unsteadyNote: String? {
        let moved = results.compactMap { r -> String? in
            guard let drift = r.latency.halvesDrift, drift > Self.unsteadyDrift else { return nil }
            return "\(r.model) \(r.height)x\(r.width) \(String(format: "%.0f%%", drift * 100))"
        }
        guard !moved.isEmpty else { return nil }
        return "Unsteady timings: the medians of the first and second half of the timed calls differ by "
            + moved.joined(separator: ", ") + " (over \(String(format: "%.0f%%", Self.unsteadyDrift * 100))): the machine's speed changed "
            + "during the run (other tenants, clock), which moves medians between processes by as much; compare such figures "
            + "in interleaved runs (scripts/bench-cpu.sh, --compare) or with a longer --min-time."
    }

    /// Pretty JSON: one object per result, computed ratios included.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Only finite numbers and strings: encoding cannot fail.
        return String(decoding: try! encoder.encode(results.map(BenchJSONRow.init)), as: UTF8.self) + "\n"
    }

    /// Latency (top) and peak memory (bottom) against resolution, one line per model.
    public var plot: SVGPlot {
        let sizes = self.sizes
        let lines = modelNames.map { name -> (name: String, latencyMs: [Double], memoryMiB: [Double]) in
            let rows = sizes.map { s in results.first { $0.model == name && $0.height == s.height && $0.width == s.width } }
            return (name, rows.map { $0?.latency.medianMs ?? .nan }, rows.map { $0?.peakMemoryMiB ?? .nan })
        }
        let first = results.first
        let title = "\(first?.mode ?? "benchmark"), batch \(first?.batch ?? 1), \(first?.precision.rawValue ?? ""), \(first?.device ?? "")"
        return SVGPlot.benchmark(resolutions: sizes.map { ($0.height, $0.width) }, models: lines, title: title)
    }

    public var svg: String { plot.render() }

    /// Writes `<name>.md`, `<name>.json` and `<name>.svg` into `directory` and returns their URLs.
    @discardableResult
    public func write(to directory: URL, name: String = "bench") throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try [("md", markdown), ("json", json), ("svg", svg)].map { ext, content in
                let url = directory.appendingPathComponent("\(name).\(ext)")
                try Data(content.utf8).write(to: url, options: .atomic)
                return url
            }
        } catch {
            throw BenchmarkError("cannot write the benchmark report to \(directory.path): \(FileAccess.reason(error))")
        }
    }

    static func ms(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v) }
}

/// A result as written to JSON: stored fields plus the derived ones.
struct BenchJSONRow: Encodable {
    var result: BenchResult
    var peakMemoryMiB: Double?
    var latencyRatio: Double?
    var memoryRatio: Double?
    var halvesDrift: Double?

    init(_ r: BenchResult) {
        result = r
        halvesDrift = r.latency.halvesDrift
        peakMemoryMiB = r.peakMemoryMiB
        latencyRatio = r.latencyRatio
        memoryRatio = r.memoryRatio
    }
}

/// What `swiftseg bench` runs: options in, results and rendered report out, files written when asked.
public struct BenchOutput: Sendable {
    public var report: BenchReport
    public var files: [URL]
}

extension Benchmark {
    /// Runs the benchmark and renders it; writes bench.md/.json/.svg when `options.outputDirectory` is set.
    public static func report(_ options: BenchOptions, progress: ((String) -> Void)? = nil) throws -> BenchOutput {
        let report = BenchReport(results: try run(options, progress: progress))
        var files: [URL] = []
        if let directory = options.outputDirectory { files = try report.write(to: directory) }
        return BenchOutput(report: report, files: files)
    }
}
