import Foundation
import SegData
import SegModels
import Torch

/// How a model is tested on a dataset: its family's official `TestProtocol` for that dataset (the default of
/// `eval` and `predict`), the input normalisation its weights expect, and whether TTA is on. Flags override
/// single fields; `record` is what `eval --json` reports as the protocol actually used.
public struct EvaluationSettings: Sendable {
    public var test: TestProtocol
    public var normalization: Normalization
    public var tta: Bool
    /// Where the protocol comes from ("yuhuan-wu/LRFormer configs_local/...", or "overridden").
    public var source: String
    /// The family's input constraints and the model name, for checking sizes before running.
    public var constraints: InputConstraints
    public var model: String
    /// fp32, or autocast in bf16/fp16 around the model's forward pass.
    public var precision: Precision = .fp32

    public init(test: TestProtocol, normalization: Normalization, tta: Bool = false, source: String,
                constraints: InputConstraints, model: String) {
        self.test = test
        self.normalization = normalization
        self.tta = tta
        self.source = source
        self.constraints = constraints
        self.model = model
    }

    /// The official protocol of `model` on `dataset`.
    public static func official(model: String, dataset: DatasetKind) throws -> EvaluationSettings {
        let family = try ModelRegistry.family(of: model)
        let variant = try ModelRegistry.variant(model)
        let official = family.testProtocol(dataset.benchmark, variant.name)
        var test = official.value
        var source = official.source
        if dataset == .synth {
            // The synthetic set's images are small: test them at the synth preset's scale.
            test = try TrainConfig.preset(model: variant.name, dataset: .synth).test
            source += " (scale of the synthetic preset)"
        }
        return EvaluationSettings(test: test, normalization: variant.normalization, source: source,
                                  constraints: family.inputConstraints, model: variant.name)
    }

    /// The settings a training run validates with: its config's test section and normalisation.
    public static func training(_ config: TrainConfig) throws -> EvaluationSettings {
        let family = try ModelRegistry.family(of: config.model)
        var settings = EvaluationSettings(test: config.test,
                                          normalization: Normalization(mean: config.augmentation.mean, std: config.augmentation.std),
                                          source: "training config", constraints: family.inputConstraints, model: config.model)
        settings.precision = config.precision
        return settings
    }

    // MARK: - What the engine runs

    var normalize: Normalize { Normalize(mean: normalization.mean.map { Float($0) }, std: normalization.std.map { Float($0) }) }

    public var pipeline: TestPipeline {
        TestPipeline(resize: AlignResize(scale: (test.scale.longSide, test.scale.shortSide), sizeDivisor: test.sizeDivisor),
                     normalize: normalize)
    }

    public var inferenceMode: InferenceMode {
        test.mode == .whole ? .whole : .slide(crop: test.slideCrop, stride: test.slideStride)
    }

    public var augmentation: TestTimeAugmentation? {
        guard tta else { return nil }
        return TestTimeAugmentation(scale: (test.scale.longSide, test.scale.shortSide), scales: test.tta.ratios, flip: test.tta.flip,
                                    sizeDivisor: test.sizeDivisor,
                                    ratioBase: test.tta.rule == .scaleTestScale ? .testScale : .originalSize)
    }

    /// Throws when the protocol cannot run this model: a slide stride larger than its window, or windows / a
    /// test scale below the family's minimum input size.
    public func validate() throws {
        if let problem = test.slideProblem { throw EngineError("test protocol: \(problem)") }
        if test.mode == .slide, let problem = constraints.problem(with: test.slideCrop, model: model) {
            throw EngineError("slide window: \(problem)")
        }
        if let problem = SizeLimits.problem(test.scale, ratio: tta ? max(test.tta.ratios.max() ?? 1, 1) : 1) {
            throw EngineError("test scale \(test.scale)\(tta ? " with TTA ratios up to \(test.tta.ratios.max() ?? 1)" : ""): \(problem)")
        }
        if test.mode == .slide, let problem = SizeLimits.problem(test.slideCrop) { throw EngineError("slide window: \(problem)") }
        if test.scale.shortSide < constraints.minimumSide {
            throw EngineError("test scale \(test.scale): \(model) needs a short side of at least \(constraints.minimumSide)")
        }
        if tta, test.tta.ratios.isEmpty || test.tta.ratios.contains(where: { !($0 > 0) }) {
            throw EngineError("TTA ratios must be positive, got \(test.tta.ratios)")
        }
    }

    /// One line for people: "whole, resize (2048, 512) to /32, TTA x6 flip (mmseg1x) [source]".
    public var summary: String {
        var parts = [test.mode == .slide ? "slide \(test.slideCrop) every \(test.slideStride)" : "whole image"]
        parts.append("keep-ratio resize into \(test.scale)" + (test.sizeDivisor.map { ", rounded up to /\($0)" } ?? ""))
        if tta { parts.append("TTA ratios \(test.tta.ratios)\(test.tta.flip ? " + flip" : "") (\(test.tta.rule.rawValue) rule)") }
        return parts.joined(separator: "; ") + " [\(source)]"
    }

    /// The protocol as `eval --json` records it.
    public var record: Record {
        Record(model: model, mode: test.mode.rawValue, scale: [test.scale.longSide, test.scale.shortSide],
               sizeDivisor: test.sizeDivisor,
               slideCrop: test.mode == .slide ? [test.slideCrop.height, test.slideCrop.width] : nil,
               slideStride: test.mode == .slide ? [test.slideStride.height, test.slideStride.width] : nil,
               tta: tta ? TTARecord(ratios: test.tta.ratios, flip: test.tta.flip, rule: test.tta.rule.rawValue) : nil,
               mean: normalization.mean, std: normalization.std, source: source)
    }

    public struct Record: Codable, Equatable, Sendable {
        public var model: String
        public var mode: String
        /// (long, short) of the keep-ratio resize.
        public var scale: [Int]
        public var sizeDivisor: Int?
        public var slideCrop: [Int]?
        public var slideStride: [Int]?
        public var tta: TTARecord?
        public var mean: [Double]
        public var std: [Double]
        public var source: String

        enum CodingKeys: String, CodingKey { case model, mode, scale, sizeDivisor, slideCrop, slideStride, tta, mean, std, source }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(mode, forKey: .mode)
            try c.encode(scale, forKey: .scale)
            try c.encode(sizeDivisor, forKey: .sizeDivisor)  // null: no rounding
            try c.encodeIfPresent(slideCrop, forKey: .slideCrop)
            try c.encodeIfPresent(slideStride, forKey: .slideStride)
            try c.encode(tta, forKey: .tta)  // null: no TTA
            try c.encode(mean, forKey: .mean)
            try c.encode(std, forKey: .std)
            try c.encode(source, forKey: .source)
        }
    }

    public struct TTARecord: Codable, Equatable, Sendable {
        public var ratios: [Double]
        public var flip: Bool
        public var rule: String
    }
}
