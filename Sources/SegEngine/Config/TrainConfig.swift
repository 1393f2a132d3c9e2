// Every knob of a training run, with presets for the official recipes (TrainConfig+Presets.swift),
// partial overrides from JSON or YAML (TrainConfig+Files.swift) and checks (TrainConfig+Validation.swift).

import Foundation
import SegModels
import Torch

public struct TrainConfig: Codable, Equatable, Sendable {
    /// "lrformer-t", "segformer-b0", ...
    public var model: String
    public var dataset: DatasetConfig
    /// Optimizer steps in the whole run.
    public var iterations: Int
    /// Images per optimizer step (over all devices).
    public var batchSize: Int
    public var cropSize: Size2D
    public var optimizer: OptimizerConfig
    public var schedule: ScheduleConfig
    /// Clip the global L2 norm of all gradients to this; nil for no clipping.
    public var gradClipMaxNorm: Double?
    public var loss: LossConfig
    public var evalInterval: Int
    public var checkpointInterval: Int
    public var logInterval: Int
    public var seed: Int
    /// "auto", "cpu", "cuda", "cuda:1".
    public var device: String
    /// Data-loading workers.
    public var workers: Int
    public var augmentation: AugmentationConfig
    public var test: TestConfig

    public init(model: String, dataset: DatasetConfig, iterations: Int, batchSize: Int, cropSize: Size2D,
                optimizer: OptimizerConfig, schedule: ScheduleConfig, gradClipMaxNorm: Double?, loss: LossConfig,
                evalInterval: Int, checkpointInterval: Int, logInterval: Int, seed: Int, device: String, workers: Int,
                augmentation: AugmentationConfig, test: TestConfig) {
        self.model = model
        self.dataset = dataset
        self.iterations = iterations
        self.batchSize = batchSize
        self.cropSize = cropSize
        self.optimizer = optimizer
        self.schedule = schedule
        self.gradClipMaxNorm = gradClipMaxNorm
        self.loss = loss
        self.evalInterval = evalInterval
        self.checkpointInterval = checkpointInterval
        self.logInterval = logInterval
        self.seed = seed
        self.device = device
        self.workers = workers
        self.augmentation = augmentation
        self.test = test
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, dataset, iterations, batchSize, cropSize, optimizer, schedule, gradClipMaxNorm, loss
        case evalInterval, checkpointInterval, logInterval, seed, device, workers, augmentation, test
    }

    /// The learning rate of every optimizer step, from `schedule`, `optimizer.lr` and `iterations`.
    public var lrSchedule: LRSchedule {
        switch schedule.policy {
        case .poly:
            return .warmupPoly(baseLR: optimizer.lr, warmupIters: schedule.warmupIters, warmupRatio: schedule.warmupRatio,
                               maxIters: iterations, power: schedule.power, minLR: schedule.minLR)
        case .cosine:
            return .cosine(baseLR: optimizer.lr, warmupIters: schedule.warmupIters, warmupRatio: schedule.warmupRatio,
                           maxIters: iterations, minLR: schedule.minLR)
        case .step:
            return .step(baseLR: optimizer.lr, stepSize: schedule.stepSize, gamma: schedule.gamma)
        }
    }

    /// The parameter-name rules of `optimizer.paramRules`.
    public var paramGroupRules: ParamGroupRules { ParamGroupRules(customKeys: optimizer.paramRules) }

    /// Overwrites the fields a (partial) file sets.
    mutating func merge(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        try c.merge(&model, .model)
        try c.merge(&dataset, .dataset)
        try c.merge(&iterations, .iterations)
        try c.merge(&batchSize, .batchSize)
        try c.merge(&cropSize, .cropSize)
        try c.merge(&optimizer, .optimizer)
        try c.merge(&schedule, .schedule)
        try c.merge(&gradClipMaxNorm, .gradClipMaxNorm)
        try c.merge(&loss, .loss)
        try c.merge(&evalInterval, .evalInterval)
        try c.merge(&checkpointInterval, .checkpointInterval)
        try c.merge(&logInterval, .logInterval)
        try c.merge(&seed, .seed)
        try c.merge(&device, .device)
        try c.merge(&workers, .workers)
        try c.merge(&augmentation, .augmentation)
        try c.merge(&test, .test)
    }

    /// Decodes a complete or partial config: the preset of the model and data set it names (ADE20K when it
    /// names none), then every field it sets. A saved resolved config therefore reads back unchanged.
    public init(from decoder: Decoder) throws {
        let selection = try PresetSelection(from: decoder)
        guard let model = selection.model else {
            throw ConfigError.invalidValue(path: "model", message: "missing: name the model, e.g. `model: \(ModelRegistry.demoModel)`")
        }
        self = try TrainConfig.preset(model: model, dataset: selection.dataset ?? .ade20k)
        try merge(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(cropSize, forKey: .cropSize)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(gradClipMaxNorm, forKey: .gradClipMaxNorm)  // explicit null: "no clipping" survives a reload
        try c.encode(loss, forKey: .loss)
        try c.encode(evalInterval, forKey: .evalInterval)
        try c.encode(checkpointInterval, forKey: .checkpointInterval)
        try c.encode(logInterval, forKey: .logInterval)
        try c.encode(seed, forKey: .seed)
        try c.encode(device, forKey: .device)
        try c.encode(workers, forKey: .workers)
        try c.encode(augmentation, forKey: .augmentation)
        try c.encode(test, forKey: .test)
    }
}

/// The `model` and `dataset.kind` of a file, read before anything else to pick the preset to merge onto.
/// Lenient: a malformed value is reported by the full merge that follows, with its path.
struct PresetSelection {
    var model: String?
    var dataset: DatasetKind?

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        model = try? c.decode(String.self, forKey: AnyCodingKey(stringValue: "model"))
        let datasetSection = try? c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey(stringValue: "dataset"))
        dataset = try? datasetSection?.decode(DatasetKind.self, forKey: AnyCodingKey(stringValue: "kind"))
    }
}
