// Learning-rate schedules as closed forms of mmengine's iteration-based schedulers (pure math, no tensors).
//
// mmengine applies its schedulers recursively: each `step()` multiplies the current lr by a ratio. The closed
// forms below equal those recursions (checked step by step in LRScheduleTests). Conventions, as in mmengine:
// - `lr(at: i)` is the lr used by optimizer step i (0-based): the value after the schedulers' constructor
//   call plus i `step()` calls, i.e. their `_global_step == i`.
// - A scheduler with `begin..<end` stops updating at `end`; the lr then stays at its last value.

import Foundation

public enum LRSchedule: Sendable, Equatable {
    /// `LinearLR(start_factor: warmupRatio, begin: 0, end: warmupIters)` then
    /// `PolyLR(eta_min: minLR, power:, begin: warmupIters, end: maxIters)`, both `by_epoch=False`.
    /// The mmseg recipes: warmupIters 1500, warmupRatio 1e-6, power 1, minLR 0, maxIters 160k.
    case warmupPoly(baseLR: Double, warmupIters: Int, warmupRatio: Double, maxIters: Int, power: Double, minLR: Double)
    /// `LinearLR` warm-up as above, then `CosineAnnealingLR(eta_min: minLR, begin: warmupIters, end: maxIters)`
    /// with mmengine's default `T_max = end - begin`.
    case cosine(baseLR: Double, warmupIters: Int, warmupRatio: Double, maxIters: Int, minLR: Double)
    /// `StepLR(step_size:, gamma:)`: `baseLR * gamma^(floor(i / stepSize))` (PyTorch's closed form).
    case step(baseLR: Double, stepSize: Int, gamma: Double)

    /// The lr of optimizer step `iter` for a parameter group whose initial lr is `baseLR * multiplier`
    /// (mmengine's `custom_keys` `lr_mult`). `minLR` is absolute, as mmengine's `eta_min`, so it is not
    /// multiplied.
    public func lr(at iter: Int, multiplier: Double = 1) -> Double {
        let i = max(iter, 0)
        switch self {
        case let .warmupPoly(baseLR, warmupIters, warmupRatio, maxIters, power, minLR):
            let base = baseLR * multiplier
            if i < warmupIters { return base * Self.warmupFactor(i, warmupIters, warmupRatio) }
            // PolyLR starts from whatever the warm-up left (base, unless a degenerate 1-iteration warm-up).
            let start = base * Self.warmupEndFactor(warmupIters, warmupRatio)
            let total = maxIters - warmupIters - 1  // mmengine: total_iters = end - begin - 1
            guard total > 0 else { return start }
            let t = min(i - warmupIters, total)     // frozen at end - 1 once the scheduler stops
            return minLR + (start - minLR) * pow(1 - Double(t) / Double(total), power)
        case let .cosine(baseLR, warmupIters, warmupRatio, maxIters, minLR):
            let base = baseLR * multiplier
            if i < warmupIters { return base * Self.warmupFactor(i, warmupIters, warmupRatio) }
            let start = base * Self.warmupEndFactor(warmupIters, warmupRatio)
            let tMax = maxIters - warmupIters
            guard tMax > 0 else { return start }
            let t = min(i - warmupIters, tMax - 1)
            return minLR + (start - minLR) * (1 + cos(Double.pi * Double(t) / Double(tMax))) / 2
        case let .step(baseLR, stepSize, gamma):
            guard stepSize > 0 else { return baseLR * multiplier }
            return baseLR * multiplier * pow(gamma, Double(i / stepSize))
        }
    }

    /// The initial lr (before warm-up scaling).
    public var baseLR: Double {
        switch self {
        case let .warmupPoly(baseLR, _, _, _, _, _), let .cosine(baseLR, _, _, _, _), let .step(baseLR, _, _):
            return baseLR
        }
    }

    /// LinearLR's factor at its step `i` (0 <= i < warmupIters): from `ratio` to 1 over `warmupIters - 1` steps,
    /// reaching 1 at the last warm-up iteration (mmengine's total_iters = end - begin - 1).
    static func warmupFactor(_ i: Int, _ warmupIters: Int, _ ratio: Double) -> Double {
        let total = warmupIters - 1
        guard total > 0 else { return ratio }
        return ratio + (1 - ratio) * Double(min(i, total)) / Double(total)
    }

    /// The factor LinearLR leaves behind when it stops: 1, or `ratio` for a 1-iteration warm-up.
    static func warmupEndFactor(_ warmupIters: Int, _ ratio: Double) -> Double {
        warmupIters <= 0 ? 1 : warmupFactor(warmupIters - 1, warmupIters, ratio)
    }
}
