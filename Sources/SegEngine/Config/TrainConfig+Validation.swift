// Checks that a decoded config can train, so that bad values fail at start-up with their field name rather
// than as a trap or a NaN hours later.

import Foundation
import SegModels

extension TrainConfig {
    /// Every problem found, as "field: what is wrong"; empty when the config is usable.
    public func problems() -> [String] {
        var out: [String] = []
        func check(_ ok: Bool, _ message: @autoclosure () -> String) { if !ok { out.append(message()) } }

        check(!model.isEmpty, "model: empty")
        for (name, value) in [("dropout", modelOverrides.dropout), ("dropPath", modelOverrides.dropPath)] {
            if let value { check(value >= 0 && value < 1, "model.\(name): expected a value in [0, 1), got \(value)") }
        }
        if let n = dataset.numClasses {
            check(n > 0, "dataset.numClasses: must be positive, got \(n)")
            check(loss.ignoreIndex < 0 || n <= loss.ignoreIndex,
                  "dataset.numClasses: \(n) classes include the ignore index \(loss.ignoreIndex)")
        }
        check(!dataset.root.isEmpty, "dataset.root: empty")
        check(iterations > 0, "iterations: must be positive, got \(iterations)")
        check(batchSize > 0, "batchSize: must be positive, got \(batchSize)")
        check(cropSize.height > 0 && cropSize.width > 0, "cropSize: must be positive, got \(cropSize)")
        if cropSize.height > 0 && cropSize.width > 0, let problem = SizeLimits.problem(cropSize, batch: max(batchSize, 1)) {
            out.append("cropSize: \(problem)")
        }

        check(optimizer.lr > 0 && optimizer.lr.isFinite, "optimizer.lr: must be positive, got \(optimizer.lr)")
        check(optimizer.betas.count == 2 && optimizer.betas.allSatisfy { $0 >= 0 && $0 < 1 },
              "optimizer.betas: expected two values in [0, 1), got \(optimizer.betas)")
        check(optimizer.eps > 0, "optimizer.eps: must be positive, got \(optimizer.eps)")
        check(optimizer.weightDecay >= 0, "optimizer.weightDecay: must not be negative, got \(optimizer.weightDecay)")
        check(optimizer.momentum >= 0 && optimizer.momentum < 1,
              "optimizer.momentum: expected a value in [0, 1), got \(optimizer.momentum)")
        for (key, rule) in optimizer.paramRules.sorted(by: { $0.key < $1.key }) {
            check(!key.isEmpty, "optimizer.paramRules: an empty key would match every parameter")
            check(rule.lrMult >= 0 && rule.decayMult >= 0,
                  "optimizer.paramRules.\(key): multipliers must not be negative")
        }

        check(schedule.warmupIters >= 0, "schedule.warmupIters: must not be negative, got \(schedule.warmupIters)")
        // mmengine's LinearLR rejects factors outside [0, 1]; 0 would also divide by zero in its recursion.
        check(schedule.warmupRatio > 0 && schedule.warmupRatio <= 1,
              "schedule.warmupRatio: expected a value in (0, 1], got \(schedule.warmupRatio)")
        check(schedule.power > 0, "schedule.power: must be positive, got \(schedule.power)")
        check(schedule.minLR >= 0 && schedule.minLR <= optimizer.lr,
              "schedule.minLR: expected a value in [0, optimizer.lr], got \(schedule.minLR)")
        if schedule.policy == .step {
            check(schedule.stepSize > 0, "schedule.stepSize: must be positive, got \(schedule.stepSize)")
            check(schedule.gamma > 0 && schedule.gamma <= 1, "schedule.gamma: expected a value in (0, 1], got \(schedule.gamma)")
        }
        if let clip = gradClipMaxNorm {
            check(clip > 0, "gradClipMaxNorm: must be positive (or null for no clipping), got \(clip)")
        }

        check(evalInterval >= 0, "evalInterval: must not be negative (0 turns evaluation off), got \(evalInterval)")
        check(checkpointInterval > 0, "checkpointInterval: must be positive, got \(checkpointInterval)")
        check(logInterval > 0, "logInterval: must be positive, got \(logInterval)")
        check(workers >= 0, "workers: must not be negative, got \(workers)")
        check(seed >= 0, "seed: must not be negative, got \(seed)")  // the generators take unsigned seeds
        check(Self.isDeviceName(device), "device: expected auto, cpu, cuda or cuda:N, got '\(device)'")

        let aug = augmentation
        check(aug.scale.longSide > 0 && aug.scale.shortSide > 0, "augmentation.scale: must be positive")
        if aug.scale.shortSide > 0, aug.ratioRange.count == 2, aug.ratioRange[1] > 0,
           let problem = SizeLimits.problem(aug.scale, ratio: aug.ratioRange[1]) {
            out.append("augmentation.scale: resized by up to \(aug.ratioRange[1]): \(problem)")
        }
        check(aug.ratioRange.count == 2 && aug.ratioRange[0] > 0 && aug.ratioRange[0] <= aug.ratioRange[1],
              "augmentation.ratioRange: expected [min, max] with 0 < min <= max, got \(aug.ratioRange)")
        check(aug.catMaxRatio > 0 && aug.catMaxRatio <= 1,
              "augmentation.catMaxRatio: expected a value in (0, 1], got \(aug.catMaxRatio)")
        check(aug.flipProb >= 0 && aug.flipProb <= 1, "augmentation.flipProb: expected a value in [0, 1], got \(aug.flipProb)")
        check(aug.mean.count == 3, "augmentation.mean: expected 3 values (R, G, B), got \(aug.mean.count)")
        check(aug.std.count == 3 && aug.std.allSatisfy { $0 > 0 },
              "augmentation.std: expected 3 positive values (R, G, B), got \(aug.std)")

        check(test.scale.longSide > 0 && test.scale.shortSide > 0, "test.scale: must be positive")
        if test.scale.shortSide > 0, let problem = SizeLimits.problem(test.scale) { out.append("test.scale: \(problem)") }
        if test.mode == .slide, test.slideCrop.height > 0, test.slideCrop.width > 0, let problem = SizeLimits.problem(test.slideCrop) {
            out.append("test.slideCrop: \(problem)")
        }
        if let divisor = test.sizeDivisor { check(divisor > 0, "test.sizeDivisor: must be positive, got \(divisor)") }
        check(test.slideCrop.height > 0 && test.slideCrop.width > 0, "test.slideCrop: must be positive, got \(test.slideCrop)")
        check(test.slideStride.height > 0 && test.slideStride.width > 0
                && test.slideStride.height <= test.slideCrop.height && test.slideStride.width <= test.slideCrop.width,
              "test.slideStride: expected positive values no larger than slideCrop (\(test.slideCrop)), got \(test.slideStride)")
        check(test.tta.ratios.allSatisfy { $0 > 0 }, "test.tta.ratios: must be positive, got \(test.tta.ratios)")
        if let family = try? ModelRegistry.family(of: model) {
            if let problem = family.inputConstraints.problem(with: cropSize, model: model) { out.append("cropSize: \(problem)") }
            if test.mode == .slide, let problem = family.inputConstraints.problem(with: test.slideCrop, model: model) {
                out.append("test.slideCrop: \(problem)")
            }
        } else {
            out.append("model: unknown model '\(model)'; see `swiftseg models`")
        }
        return out
    }

    /// Throws `ConfigError.invalid` listing every problem.
    public func validate() throws {
        let found = problems()
        if !found.isEmpty { throw ConfigError.invalid(found) }
    }

    static func isDeviceName(_ name: String) -> Bool {
        if ["auto", "cpu", "cuda"].contains(name) { return true }
        guard name.hasPrefix("cuda:"), let index = Int(name.dropFirst(5)) else { return false }
        return index >= 0
    }
}
