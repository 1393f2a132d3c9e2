// The sections of a training config. Keys in files are these property names (camelCase).

import Foundation
import SegModels
import Torch

public struct DatasetConfig: Equatable, Sendable, ConfigSection {
    public var kind: DatasetKind
    public var root: String
    /// nil: read from the data set's classes file (folder, synth).
    public var numClasses: Int?
    /// ADE20K's convention: label 0 (other) becomes 255, every other label minus 1. nil: the layout's own convention
    /// (ADE20K and the synthetic set on, Cityscapes and COCO-Stuff off, a folder's classes.json).
    public var reduceZeroLabel: Bool?

    public init(kind: DatasetKind, root: String, numClasses: Int?, reduceZeroLabel: Bool?) {
        self.kind = kind
        self.root = root
        self.numClasses = numClasses
        self.reduceZeroLabel = reduceZeroLabel
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, root, numClasses, reduceZeroLabel }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        try c.merge(&kind, .kind)
        try c.merge(&root, .root)
        try c.merge(&numClasses, .numClasses)
        try c.merge(&reduceZeroLabel, .reduceZeroLabel)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(root, forKey: .root)
        try c.encode(numClasses, forKey: .numClasses)  // null when unset, so a reload cannot pick up a preset's
        try c.encode(reduceZeroLabel, forKey: .reduceZeroLabel)  // null: the layout's convention
    }
}

public struct OptimizerConfig: Equatable, Sendable, ConfigSection {
    public var type: OptimizerKind
    public var lr: Double
    /// AdamW's (beta1, beta2).
    public var betas: [Double]
    public var eps: Double
    public var weightDecay: Double
    /// SGD only.
    public var momentum: Double
    /// mmengine's `paramwise_cfg.custom_keys`: substring of the parameter name -> multipliers. A file's map
    /// replaces the preset's as a whole, so that what is written is what applies.
    public var paramRules: [String: ParamRule]

    public init(type: OptimizerKind, lr: Double, betas: [Double] = [0.9, 0.999], eps: Double = 1e-8,
                weightDecay: Double, momentum: Double = 0.9, paramRules: [String: ParamRule] = [:]) {
        self.type = type
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.paramRules = paramRules
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case type, lr, betas, eps, weightDecay, momentum, paramRules }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        try c.merge(&type, .type)
        try c.merge(&lr, .lr)
        try c.merge(&betas, .betas)
        try c.merge(&eps, .eps)
        try c.merge(&weightDecay, .weightDecay)
        try c.merge(&momentum, .momentum)
        if c.contains(.paramRules) {
            paramRules = try c.decode([String: ParamRuleEntry].self, forKey: .paramRules).mapValues(\.rule)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(lr, forKey: .lr)
        try c.encode(betas, forKey: .betas)
        try c.encode(eps, forKey: .eps)
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(momentum, forKey: .momentum)
        try c.encode(paramRules.mapValues(ParamRuleEntry.init), forKey: .paramRules)
    }
}

/// One `paramRules` entry in a file: `{lrMult: 10}`, `{decayMult: 0}`; a missing multiplier is 1 (mmengine).
struct ParamRuleEntry: Codable {
    var rule: ParamRule

    init(_ rule: ParamRule) { self.rule = rule }

    enum CodingKeys: String, CodingKey, CaseIterable { case lrMult, decayMult }

    init(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        rule = ParamRule()
        try c.merge(&rule.lrMult, .lrMult)
        try c.merge(&rule.decayMult, .decayMult)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule.lrMult, forKey: .lrMult)
        try c.encode(rule.decayMult, forKey: .decayMult)
    }
}

/// The learning-rate schedule over `TrainConfig.iterations`.
public struct ScheduleConfig: Equatable, Sendable, ConfigSection, Encodable {
    public var policy: LRPolicy
    /// Linear warm-up length (mmengine `LinearLR(end:)`); 0 for none.
    public var warmupIters: Int
    /// Warm-up start factor (mmengine `start_factor`).
    public var warmupRatio: Double
    /// Poly power.
    public var power: Double
    /// Final lr of poly and cosine (mmengine `eta_min`, absolute).
    public var minLR: Double
    /// Step policy: decay period and factor.
    public var stepSize: Int
    public var gamma: Double

    public init(policy: LRPolicy = .poly, warmupIters: Int = 1500, warmupRatio: Double = 1e-6, power: Double = 1,
                minLR: Double = 0, stepSize: Int = 30_000, gamma: Double = 0.1) {
        self.policy = policy
        self.warmupIters = warmupIters
        self.warmupRatio = warmupRatio
        self.power = power
        self.minLR = minLR
        self.stepSize = stepSize
        self.gamma = gamma
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case policy, warmupIters, warmupRatio, power, minLR, stepSize, gamma }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        try c.merge(&policy, .policy)
        try c.merge(&warmupIters, .warmupIters)
        try c.merge(&warmupRatio, .warmupRatio)
        try c.merge(&power, .power)
        try c.merge(&minLR, .minLR)
        try c.merge(&stepSize, .stepSize)
        try c.merge(&gamma, .gamma)
    }
}

public struct LossConfig: Equatable, Sendable, ConfigSection, Encodable {
    public var ignoreIndex: Int
    /// false (mmseg's default): the summed loss is divided by all pixels, ignored ones included;
    /// true: by the valid pixels only.
    public var avgNonIgnore: Bool

    public init(ignoreIndex: Int = 255, avgNonIgnore: Bool = false) {
        self.ignoreIndex = ignoreIndex
        self.avgNonIgnore = avgNonIgnore
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case ignoreIndex, avgNonIgnore }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        try c.merge(&ignoreIndex, .ignoreIndex)
        try c.merge(&avgNonIgnore, .avgNonIgnore)
    }
}

/// The mmseg training pipeline's parameters.
public struct AugmentationConfig: Equatable, Sendable, ConfigSection, Encodable {
    /// RandomResize base scale (long, short), multiplied by a ratio drawn from `ratioRange`.
    public var scale: ResizeScale
    public var ratioRange: [Double]
    /// RandomCrop: retry (up to 10 times) while one class covers more than this share of the crop.
    public var catMaxRatio: Double
    public var flipProb: Double
    /// PhotoMetricDistortion on or off.
    public var photometric: Bool
    /// Normalisation on RGB, 0-255 scale.
    public var mean: [Double]
    public var std: [Double]

    public static let imageNetMean = [123.675, 116.28, 103.53]
    public static let imageNetStd = [58.395, 57.12, 57.375]

    public init(scale: ResizeScale, ratioRange: [Double] = [0.5, 2.0], catMaxRatio: Double = 0.75, flipProb: Double = 0.5,
                photometric: Bool = true, mean: [Double] = imageNetMean, std: [Double] = imageNetStd) {
        self.scale = scale
        self.ratioRange = ratioRange
        self.catMaxRatio = catMaxRatio
        self.flipProb = flipProb
        self.photometric = photometric
        self.mean = mean
        self.std = std
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case scale, ratioRange, catMaxRatio, flipProb, photometric, mean, std }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        try c.merge(&scale, .scale)
        try c.merge(&ratioRange, .ratioRange)
        try c.merge(&catMaxRatio, .catMaxRatio)
        try c.merge(&flipProb, .flipProb)
        try c.merge(&photometric, .photometric)
        try c.merge(&mean, .mean)
        try c.merge(&std, .std)
    }
}

/// How validation and testing run: the family's official `TestProtocol`, overridable field by field.
public typealias TestConfig = TestProtocol

extension TestProtocol: ConfigSection {
    enum MergeKeys: String, CodingKey, CaseIterable { case mode, scale, sizeDivisor, slideCrop, slideStride, tta }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: MergeKeys.self)
        try c.merge(&mode, .mode)
        try c.merge(&scale, .scale)
        try c.merge(&sizeDivisor, .sizeDivisor)
        try c.merge(&slideCrop, .slideCrop)
        try c.merge(&slideStride, .slideStride)
        try c.merge(&tta, .tta)
    }
}

extension TTAProtocol: ConfigSection {
    enum MergeKeys: String, CodingKey, CaseIterable { case ratios, flip, rule }

    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: MergeKeys.self)
        try c.merge(&ratios, .ratios)
        try c.merge(&flip, .flip)
        try c.merge(&rule, .rule)
    }
}
