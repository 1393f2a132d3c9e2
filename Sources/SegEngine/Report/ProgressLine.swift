// One-line training progress: "iter 120/2000  loss 1.2345  lr 6.00e-05  3.1 it/s  ETA 10m02s".

import Foundation

/// Tracks a smoothed speed from (iteration, time) samples and formats progress lines. The clock is passed
/// in (seconds from any monotonic origin) so that the caller chooses it and tests can fake it.
public struct ProgressLine: Sendable {
    public let totalIterations: Int
    /// Weight of the newest sample in the exponential moving average of seconds per iteration.
    public let smoothing: Double
    /// Smoothed seconds per iteration; nil until two samples were recorded.
    public private(set) var secondsPerIteration: Double?
    private var last: (iteration: Int, time: Double)?

    public init(totalIterations: Int, smoothing: Double = 0.1) {
        self.totalIterations = totalIterations
        self.smoothing = smoothing
    }

    /// Records that `iteration` iterations were done at `time`. The first sample only sets the origin,
    /// so start-up costs (first CUDA kernels, data loader warm-up) do not enter the speed.
    public mutating func record(iteration: Int, time: Double) {
        defer { self.last = (iteration, time) }
        guard let last, iteration > last.iteration, time >= last.time else { return }
        let sample = (time - last.time) / Double(iteration - last.iteration)
        // Average seconds per iteration rather than iterations per second: the ETA is linear in it.
        secondsPerIteration = secondsPerIteration.map { smoothing * sample + (1 - smoothing) * $0 } ?? sample
    }

    public var iterationsPerSecond: Double? {
        secondsPerIteration.flatMap { $0 > 0 ? 1 / $0 : nil }
    }

    /// Seconds left after `iteration` iterations at the smoothed speed.
    public func eta(after iteration: Int) -> Double? {
        secondsPerIteration.map { Double(max(totalIterations - iteration, 0)) * $0 }
    }

    /// "iter 120/2000  loss 1.2345  lr 6.00e-05  3.1 it/s  ETA 10m02s"; speed and ETA appear once known,
    /// `extra` fields (e.g. ("mem", "5.1G")) are appended in order.
    public func line(iteration: Int, loss: Double? = nil, lr: Double? = nil, extra: [(String, String)] = []) -> String {
        var parts = ["iter \(iteration)/\(totalIterations)"]
        if let loss { parts.append("loss " + (loss.isFinite ? String(format: "%.4f", loss) : "\(loss)")) }
        if let lr { parts.append("lr " + String(format: "%.2e", lr)) }
        if let spi = secondsPerIteration, spi > 0 {
            parts.append(spi <= 1 ? String(format: "%.1f it/s", 1 / spi) : String(format: "%.1f s/it", spi))
        }
        if let eta = eta(after: iteration) { parts.append("ETA " + Self.duration(eta)) }
        parts += extra.map { "\($0.0) \($0.1)" }
        return parts.joined(separator: "  ")
    }

    /// "42s", "10m02s", "3h05m09s", "2d04h"; seconds are rounded.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int(max(seconds, 0).rounded())
        let d = total / 86_400, h = total % 86_400 / 3_600, m = total % 3_600 / 60, s = total % 60
        if d > 0 { return "\(d)d" + String(format: "%02dh", h) }
        if h > 0 { return "\(h)h" + String(format: "%02dm%02ds", m, s) }
        if m > 0 { return "\(m)m" + String(format: "%02ds", s) }
        return "\(s)s"
    }
}
