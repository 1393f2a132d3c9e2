// A training config from the model registry: the family's official recipe and test protocol for the dataset,
// plus what the data set itself fixes (paths, classes). Nothing here names a family.

import Foundation
import SegModels
import Torch

extension TrainConfig {
    /// The official recipe of `model`'s family on `dataset` (ADE20K's for folder and synthetic data).
    public static func preset(model: String, dataset: DatasetKind) throws -> TrainConfig {
        let family: ModelFamily
        let variant: ModelVariant
        do {
            family = try ModelRegistry.family(of: model)
            variant = try ModelRegistry.variant(model)
        } catch {
            throw ConfigError.unknownModel(model)
        }
        guard variant.kind == .segmentation || variant.kind == .testing else {
            throw ConfigError.invalidValue(path: "model", message: "'\(model)' is a \(variant.kind.rawValue), not a segmentation model")
        }
        let recipe = family.recipe(dataset.benchmark, variant.name).value
        var test = family.testProtocol(dataset.benchmark, variant.name).value
        var config = TrainConfig(
            model: variant.name,
            dataset: DatasetConfig(kind: dataset, root: defaultRoot(dataset), numClasses: defaultClasses(dataset),
                                   reduceZeroLabel: dataset == .folder || dataset == .synth ? nil : recipe.reduceZeroLabel),
            iterations: recipe.iterations, batchSize: recipe.batchSize, cropSize: recipe.cropSize,
            optimizer: OptimizerConfig(type: recipe.optimizer, lr: recipe.lr, betas: recipe.betas, eps: recipe.eps,
                                       weightDecay: recipe.weightDecay, momentum: recipe.momentum, paramRules: recipe.paramRules),
            schedule: ScheduleConfig(policy: recipe.policy, warmupIters: recipe.warmupIters, warmupRatio: recipe.warmupRatio,
                                     power: recipe.power, minLR: recipe.minLR),
            gradClipMaxNorm: recipe.gradClipMaxNorm, loss: LossConfig(),
            evalInterval: recipe.evalInterval, checkpointInterval: recipe.evalInterval, logInterval: 50, seed: 0, device: "auto",
            workers: 4,
            augmentation: AugmentationConfig(scale: recipe.trainScale, ratioRange: recipe.ratioRange,
                                             mean: variant.normalization.mean, std: variant.normalization.std),
            test: test)
        switch dataset {
        case .ade20k, .cityscapes, .cocoStuff:
            break
        case .folder:
            // No official recipe: the ADE20K pipeline on mmseg's short (40k) schedule; classes from classes.json.
            config.iterations = 40_000
            config.evalInterval = 4_000
            config.checkpointInterval = 4_000
        case .synth:
            // A smoke test that trains in minutes: small crops and images, short schedule and warm-up.
            let scale = ResizeScale(longSide: 512, shortSide: 256)
            config.iterations = 2_000
            config.batchSize = 8
            config.cropSize = .square(256)
            config.augmentation.scale = scale
            // The family's inference mode, with windows that fit the small images (SegViT tests on square windows).
            test.scale = scale
            let window = min(test.slideCrop.height, test.slideCrop.width, 256)
            test.slideCrop = .square(window)
            test.slideStride = .square(max(1, window * 2 / 3))
            config.test = test
            config.evalInterval = 500
            config.checkpointInterval = 1_000
            config.schedule.warmupIters = 100
            config.logInterval = 10
        }
        return config
    }

    /// Where mmseg's configs expect each data set.
    static func defaultRoot(_ dataset: DatasetKind) -> String {
        switch dataset {
        case .ade20k: return "data/ade/ADEChallengeData2016"
        case .cityscapes: return "data/cityscapes"
        case .cocoStuff: return "data/coco_stuff164k"
        case .folder: return "data/folder"
        case .synth: return "data/synth"
        }
    }

    /// Class counts of the public data sets; nil: read from the data set's classes file.
    static func defaultClasses(_ dataset: DatasetKind) -> Int? {
        switch dataset {
        case .ade20k: return 150
        case .cityscapes: return 19
        case .cocoStuff: return 171
        case .folder, .synth: return nil
        }
    }
}
