// Axis ranges and tick values on "nice" numbers (1, 2, 5 x 10^k), Heckbert's method (Graphics Gems, 1990).

import Foundation

public struct NiceScale: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public let step: Double

    /// A range covering `minValue...maxValue` with about `maxTicks` ticks on multiples of `step`.
    public init(minValue: Double, maxValue: Double, maxTicks: Int = 6) {
        var lo = minValue, hi = maxValue
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        if lo == hi {
            // A flat series: open a range around the value.
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let range = Self.nice(hi - lo, round: false)
        let step = Self.nice(range / Double(max(maxTicks - 1, 1)), round: true)
        self.step = step
        // The tolerance (a thousandth of a step, under a pixel) keeps 6e-5 / 2e-5 = 3.0000000000000004, or a
        // value a rounding error below 0, from adding a whole tick.
        lower = (lo / step + 1e-3).rounded(.down) * step
        upper = (hi / step - 1e-3).rounded(.up) * step
    }

    /// The tick values from lower to upper (inclusive).
    public var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded()) + 1
        // Recompute from the index to avoid accumulating rounding errors ("0.30000000000000004").
        return (0..<count).map { lower + Double($0) * step }
    }

    /// Tick labels with just enough decimals for the step; "20k" for thousands (iterations); exponent form
    /// for very small or large values.
    public func label(_ value: Double) -> String {
        if abs(value) < step * 1e-9 { return "0" }
        let magnitude = max(abs(lower), abs(upper))
        if magnitude >= 1e4 && magnitude < 1e6 && step >= 1000 && step.truncatingRemainder(dividingBy: 1000) == 0 {
            return String(format: "%.0fk", value / 1000)
        }
        if magnitude >= 1e6 || magnitude < 1e-3 {
            let digits = max(0, Int(log10(magnitude).rounded(.down) - log10(step).rounded(.down)))
            return String(format: "%.\(min(digits, 6))e", value)
        }
        let decimals = max(0, -Int(log10(step).rounded(.down)))
        return String(format: "%.\(min(decimals, 9))f", value)
    }

    /// The nice number near `x`: rounded to the nearest of 1, 2, 5, 10, or the next one up.
    static func nice(_ x: Double, round: Bool) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exponent = log10(x).rounded(.down)
        let fraction = x / pow(10, exponent)
        let niceFraction: Double
        if round {
            niceFraction = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            niceFraction = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return niceFraction * pow(10, exponent)
    }
}
