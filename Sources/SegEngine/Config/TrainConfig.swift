// Every knob of a training run, with presets for the official recipes (TrainConfig+Presets.swift),
// partial overrides from JSON or YAML (TrainConfig+Files.swift) and checks (TrainConfig+Validation.swift).

import Foundation
import SegModels
import Torch

public struct TrainConfig: Codable, Equatable, Sendable {
    /// "lrformer-t", "segformer-b0", ...
    public var model: String
    /// Stochastic layers switched off or rescaled for this run (written as `model: {name:, dropout:, dropPath:}`).
    public var modelOverrides = ModelOverrides()
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
    /// fp32, or autocast in bf16 / fp16 (with a gradient scaler) around the forward pass and loss.
    public var precision: Precision = .fp32
    /// Multi-process training: which BatchNorms use statistics over the global batch.
    public var syncBatchNorm: SyncBatchNormScope = .official
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
        case evalInterval, checkpointInterval, logInterval, seed, device, precision, syncBatchNorm, workers, augmentation, test
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
        if c.contains(.model) {
            // `model: lrformer-t`, or `model: {name: lrformer-t, dropout: 0, dropPath: 0}` (any subset).
            if let name = try? c.decode(String.self, forKey: .model) {
                model = name
            } else {
                let section = try c.decode(ModelSection.self, forKey: .model)
                if let name = section.name { model = name }
                if c.containsModelKey("dropout") { modelOverrides.dropout = section.dropout }
                if c.containsModelKey("dropPath") { modelOverrides.dropPath = section.dropPath }
            }
        }
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
        try c.merge(&precision, .precision)
        try c.merge(&syncBatchNorm, .syncBatchNorm)
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
        if modelOverrides == ModelOverrides() {
            try c.encode(model, forKey: .model)
        } else {
            try c.encode(ModelSection(name: model, dropout: modelOverrides.dropout, dropPath: modelOverrides.dropPath), forKey: .model)
        }
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
        try c.encode(precision, forKey: .precision)
        try c.encode(syncBatchNorm, forKey: .syncBatchNorm)
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
        let key = AnyCodingKey(stringValue: "model")
        model = (try? c.decode(String.self, forKey: key)) ?? (try? c.decode(ModelSection.self, forKey: key))?.name
        let datasetSection = try? c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey(stringValue: "dataset"))
        dataset = try? datasetSection?.decode(DatasetKind.self, forKey: AnyCodingKey(stringValue: "kind"))
    }
}

/// What a config may change about the model beyond its name: 0 switches dropout / stochastic depth off (e.g. to
/// compare runs exactly), another value sets dropout or the largest drop-path rate; nil keeps the model's own.
public struct ModelOverrides: Codable, Equatable, Sendable {
    public var dropout: Double?
    public var dropPath: Double?

    public init(dropout: Double? = nil, dropPath: Double? = nil) {
        self.dropout = dropout
        self.dropPath = dropPath
    }
}

/// The object form of `model` in a config file.
struct ModelSection: Codable {
    var name: String?
    var dropout: Double?
    var dropPath: Double?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, dropout, dropPath }

    init(name: String?, dropout: Double?, dropPath: Double?) {
        self.name = name
        self.dropout = dropout
        self.dropPath = dropPath
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.configContainer(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout)
        dropPath = try c.decodeIfPresent(Double.self, forKey: .dropPath)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(dropPath, forKey: .dropPath)
    }
}

extension KeyedDecodingContainer where Key == TrainConfig.CodingKeys {
    /// Whether the `model` object of this container sets `key` (null included).
    func containsModelKey(_ key: String) -> Bool {
        guard let nested = try? nestedContainer(keyedBy: AnyCodingKey.self, forKey: .model) else { return false }
        return nested.contains(AnyCodingKey(stringValue: key))
    }
}

/// Which BatchNorm layers a multi-process run synchronises.
public enum SyncBatchNormScope: String, ConfigChoice {
    /// Those the family's official configs mark SyncBN.
    case official
    /// Every BatchNorm (then N processes of batch b train exactly as one process of batch N x b).
    case all
    /// None: per-process statistics.
    case none
}
