import Foundation
import Logging
import Torch

/// What a run writes for people to read: the progress line, `log.jsonl` (one object per logged iteration and per
/// evaluation) and the loss / mIoU curves (curves.json + SVG).
final class TrainingLog {
    let workDir: URL
    let logger: Logger
    let quiet: Bool
    let logInterval: Int
    let device: Device
    private let jsonl: JSONLinesLog
    private var progress: ProgressLine
    private var curves: Curves
    private let started = Date()

    init(workDir: URL, iterations: Int, logInterval: Int, resumeAt start: Int?, quiet: Bool, logger: Logger, device: Device = .cpu) throws {
        self.workDir = workDir
        self.device = device
        self.logger = logger
        self.quiet = quiet
        self.logInterval = logInterval
        let url = workDir.appendingPathComponent("log.jsonl")
        if let start { try Self.trimLog(url, after: start) }
        jsonl = try JSONLinesLog(url: url, truncate: start == nil)
        progress = ProgressLine(totalIterations: iterations)
        curves = Curves.load(workDir) ?? Curves()
        if let start { curves.trim(after: start) } else { curves = Curves() }
    }

    /// After step `iteration` (1-based count of steps done).
    /// `samples`: in a multi-process run, each rank's data set indices of this step.
    func step(_ iteration: Int, of total: Int, start: Int, loss: Double, terms: [(String, Double)], lr: Double,
              samples: [[Int]]? = nil) throws {
        progress.record(iteration: iteration, time: Date().timeIntervalSince(started))
        curves.add(iteration: iteration, loss: loss, lr: lr)
        if iteration % logInterval == 0 || iteration == total || iteration == start + 1 {
            var extra = terms.count > 1 ? terms.map { ($0.0, String(format: "%.4f", $0.1)) } : []
            let peakMiB = MemoryProbe.processPeak(device: device).map { Double($0) / 1_048_576 }
            if let peakMiB { extra.append((device.isCUDA ? "peak mem" : "peak RSS", String(format: "%.0f MiB", peakMiB))) }
            if !quiet { logger.info("\(progress.line(iteration: iteration, loss: loss, lr: lr, extra: extra))") }
            try jsonl.append(encoding: LogEntry(iteration: iteration, loss: loss, lr: lr,
                                                terms: terms.count > 1 ? Dictionary(uniqueKeysWithValues: terms) : nil,
                                                samplesPerRank: samples, peakMemoryMiB: peakMiB.map { $0.rounded() }))
        }
        if iteration % logInterval == 0 || iteration == total { try curves.write(workDir) }
    }

    func evaluation(_ iteration: Int, metrics: SegMetrics) throws {
        logger.info("iter \(iteration): \(metrics.summaryLine)")
        for w in metrics.warnings { logger.warning("\(w)") }
        // NaN scores (no labelled pixel in the validation images) are logged as null.
        let percent = { (x: Double) -> Double? in x.isFinite ? x * 100 : nil }
        if metrics.mIoU.isFinite { curves.add(iteration: iteration, mIoU: metrics.mIoU * 100, mAcc: metrics.mAcc * 100) }
        try jsonl.append(encoding: LogEntry(iteration: iteration, mIoU: percent(metrics.mIoU), mAcc: percent(metrics.mAcc),
                                            aAcc: percent(metrics.aAcc)))
    }

    func finish() throws { try curves.write(workDir) }

    /// Drops the log lines of iterations after `iteration` (written by a run that went on past its last
    /// checkpoint before it stopped), so that a resumed run logs every iteration once.
    static func trimLog(_ url: URL, after iteration: Int) throws {
        struct Entry: Decodable { var iteration: Int? }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let i = (try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)))?.iteration else { return true }
            return i <= iteration
        }
        try Data(kept.map { $0 + "\n" }.joined().utf8).writeAtomically(to: url)
    }
}

struct LogEntry: Encodable {
    var iteration: Int
    var loss: Double? = nil
    var lr: Double? = nil
    var terms: [String: Double]? = nil
    var samplesPerRank: [[Int]]? = nil
    /// Peak memory of the process so far (CUDA allocated on a GPU, resident set on the CPU).
    var peakMemoryMiB: Double? = nil
    var mIoU: Double? = nil
    var mAcc: Double? = nil
    var aAcc: Double? = nil
}
