import Torch

/// The optimiser of a recipe.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case adamw
    case sgd
}

/// The learning-rate policy of a recipe.
public enum LRPolicy: String, CaseIterable, Sendable {
    /// Linear warm-up then polynomial decay (the mmseg recipes).
    case poly
    /// Linear warm-up then cosine annealing.
    case cosine
    /// Step decay every `stepSize` iterations (no warm-up).
    case step
}

/// The numbers of an official training recipe (an mmseg config of the family's repository) for one dataset:
/// optimiser, parameter rules, schedule, batch, crop and augmentation scale. The engine turns it into a
/// training config; every value stays overridable there.
public struct TrainingRecipe: Equatable, Sendable {
    public var optimizer: OptimizerKind = .adamw
    public var lr: Double = 6e-5
    public var betas: [Double] = [0.9, 0.999]
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0.01
    /// SGD only.
    public var momentum: Double = 0.9
    /// mmengine `paramwise_cfg.custom_keys`: name substring -> multipliers.
    public var paramRules: [String: ParamRule] = [:]
    /// Global L2 gradient-norm clip; nil for none.
    public var gradClipMaxNorm: Double? = nil

    public var iterations: Int
    /// Images per optimiser step over all processes (mmseg's `8xb2` = 16).
    public var batchSize: Int
    public var cropSize: Size2D
    /// RandomResize base scale (long, short) and ratio range.
    public var trainScale: ResizeScale
    public var ratioRange: [Double] = [0.5, 2.0]
    /// Labels: ADE20K's 0 = "other" becomes ignore, the rest shift down by one.
    public var reduceZeroLabel: Bool

    public var policy: LRPolicy = .poly
    public var warmupIters: Int = 1500
    public var warmupRatio: Double = 1e-6
    public var power: Double = 1
    public var minLR: Double = 0

    public var evalInterval: Int
    /// Stochastic depth of the backbone (nil: the variant's own rate).
    public var dropPath: Double? = nil

    public init(iterations: Int, batchSize: Int, cropSize: Size2D, trainScale: ResizeScale, reduceZeroLabel: Bool, evalInterval: Int) {
        self.iterations = iterations
        self.batchSize = batchSize
        self.cropSize = cropSize
        self.trainScale = trainScale
        self.reduceZeroLabel = reduceZeroLabel
        self.evalInterval = evalInterval
    }

    /// The dataset half of mmseg's configs (`_base_/datasets/*`, `_base_/schedules/*`): what every family
    /// starts from, with AdamW 6e-5 / warm-up 1500 + poly as the common optimiser.
    public static func mmsegDefaults(_ dataset: BenchmarkDataset) -> TrainingRecipe {
        switch dataset {
        case .ade20k:
            return TrainingRecipe(iterations: 160_000, batchSize: 16, cropSize: .square(512),
                                  trainScale: ResizeScale(longSide: 2048, shortSide: 512), reduceZeroLabel: true, evalInterval: 16_000)
        case .cityscapes:
            return TrainingRecipe(iterations: 160_000, batchSize: 8, cropSize: .square(1024),
                                  trainScale: ResizeScale(longSide: 2048, shortSide: 1024), reduceZeroLabel: false, evalInterval: 16_000)
        case .cocoStuff:
            return TrainingRecipe(iterations: 80_000, batchSize: 16, cropSize: .square(512),
                                  trainScale: ResizeScale(longSide: 2048, shortSide: 512), reduceZeroLabel: false, evalInterval: 8_000)
        }
    }
}

extension TestProtocol {
    /// The dataset half of mmseg's test pipelines: whole inference at the training scale (ADE20K, COCO-Stuff), slide
    /// 1024/768 at 2048x1024 (Cityscapes); no rounding; mmseg 1.x TTA. Families adjust what their configs change.
    public static func mmsegDefaults(_ dataset: BenchmarkDataset, tta: TTARule = .scaleOriginal) -> TestProtocol {
        switch dataset {
        case .ade20k, .cocoStuff:
            return TestProtocol(mode: .whole, scale: ResizeScale(longSide: 2048, shortSide: 512), slideCrop: .square(512),
                                slideStride: .square(341), tta: TTAProtocol(rule: tta))
        case .cityscapes:
            return TestProtocol(mode: .slide, scale: ResizeScale(longSide: 2048, shortSide: 1024), slideCrop: .square(1024),
                                slideStride: .square(768), tta: TTAProtocol(rule: tta))
        }
    }
}
