// The official training recipes (mmseg configs of each model's repository), per model family and data set.
// Sources: /work/shared/design/lrformer.md ("Training recipe"), afformer-segvit.md (1.6, 2.6), and mmseg's
// SegFormer configs (segformer_mit-b0_8xb2-160k_ade20k-512x512.py, ..._8xb1-160k_cityscapes-1024x1024.py).

import Foundation
import SegModels
import Torch

extension TrainConfig {
    /// The recipe for `model` ("lrformer-t", "segformer-b2", "afformer-tiny", "segvit-vit-l") on `dataset`.
    /// Families without a recipe for a data set get their ADE20K optimizer with that data set's schedule.
    public static func preset(model: String, dataset: DatasetKind) throws -> TrainConfig {
        guard let family = ModelFamily(modelName: model) else { throw ConfigError.unknownModel(model) }
        var config = datasetDefaults(model: model, dataset: dataset)
        switch family {
        case .lrformer: applyLRFormer(&config)
        case .segformer: applySegFormer(&config)
        case .afformer: applyAFFormer(&config)
        case .segvit: applySegViT(&config)
        }
        return config
    }

    /// What a data set fixes whatever the model: paths, classes, crop, schedule length, batch, test mode.
    static func datasetDefaults(model: String, dataset: DatasetKind) -> TrainConfig {
        // mmseg's AdamW / warm-up + poly recipe, overwritten per family.
        let optimizer = OptimizerConfig(type: .adamw, lr: 6e-5, weightDecay: 0.01)
        let schedule = ScheduleConfig(policy: .poly, warmupIters: 1500, warmupRatio: 1e-6, power: 1, minLR: 0)
        func make(root: String, classes: Int?, reduceZero: Bool, iterations: Int, batch: Int, crop: Int,
                  scale: ResizeScale, test: TestConfig, interval: Int) -> TrainConfig {
            TrainConfig(
                model: model,
                dataset: DatasetConfig(kind: dataset, root: root, numClasses: classes, reduceZeroLabel: reduceZero),
                iterations: iterations, batchSize: batch, cropSize: .square(crop),
                optimizer: optimizer, schedule: schedule, gradClipMaxNorm: nil, loss: LossConfig(),
                evalInterval: interval, checkpointInterval: interval, logInterval: 50, seed: 0, device: "auto",
                workers: 4, augmentation: AugmentationConfig(scale: scale), test: test)
        }
        let scale512 = ResizeScale(longSide: 2048, shortSide: 512)
        switch dataset {
        case .ade20k:
            return make(root: "data/ade/ADEChallengeData2016", classes: 150, reduceZero: true, iterations: 160_000,
                        batch: 16, crop: 512, scale: scale512,
                        test: TestConfig(mode: .whole, scale: scale512, slideCrop: .square(512), slideStride: .square(341)),
                        interval: 16_000)
        case .cityscapes:
            let scale = ResizeScale(longSide: 2048, shortSide: 1024)
            return make(root: "data/cityscapes", classes: 19, reduceZero: false, iterations: 160_000, batch: 8,
                        crop: 1024, scale: scale,
                        test: TestConfig(mode: .slide, scale: scale, slideCrop: .square(1024), slideStride: .square(768)),
                        interval: 16_000)
        case .cocoStuff:
            return make(root: "data/coco_stuff164k", classes: 171, reduceZero: false, iterations: 80_000, batch: 16,
                        crop: 512, scale: scale512,
                        test: TestConfig(mode: .whole, scale: scale512, slideCrop: .square(512), slideStride: .square(341)),
                        interval: 8_000)
        case .folder:
            // No official recipe: the ADE20K pipeline on mmseg's short (40k) schedule; classes from classes.json.
            return make(root: "data/folder", classes: nil, reduceZero: false, iterations: 40_000, batch: 16, crop: 512,
                        scale: scale512,
                        test: TestConfig(mode: .whole, scale: scale512, slideCrop: .square(512), slideStride: .square(341)),
                        interval: 4_000)
        case .synth:
            // A smoke test that trains in minutes: small crops, short schedule and warm-up.
            let scale = ResizeScale(longSide: 512, shortSide: 256)
            var config = make(root: "data/synth", classes: nil, reduceZero: false, iterations: 2_000, batch: 8,
                              crop: 256, scale: scale,
                              test: TestConfig(mode: .whole, scale: scale, slideCrop: .square(256), slideStride: .square(171)),
                              interval: 500)
            config.schedule.warmupIters = 100
            config.logInterval = 10
            config.checkpointInterval = 1_000
            return config
        }
    }

    /// LRFormer (lrformer.md): AdamW 6e-5, head lr x10, norms without decay, clip 35, AlignResize to /32.
    static func applyLRFormer(_ config: inout TrainConfig) {
        config.optimizer.lr = 6e-5
        config.optimizer.weightDecay = 0.01
        config.optimizer.paramRules = LRFormerSegmentation.optimizerRules
        config.gradClipMaxNorm = 35
        if config.dataset.kind != .cityscapes { config.test.sizeDivisor = 32 }
        // LRFormer-L tests at 640 / 2560 (lrformer.md); its ADE20K training crop is taken to be 640 to match.
        if ModelFamily.variant(of: config.model) == "l" && config.dataset.kind == .ade20k {
            let scale = ResizeScale(longSide: 2560, shortSide: 640)
            config.cropSize = .square(640)
            config.augmentation.scale = scale
            config.test.scale = scale
            config.test.slideCrop = .square(640)
            config.test.slideStride = .square(427)
        }
    }

    /// SegFormer (mmseg): AdamW 6e-5, wd 0.01, head lr x10, `pos_block` and `norm` without decay, no clipping.
    static func applySegFormer(_ config: inout TrainConfig) {
        config.optimizer.lr = 6e-5
        config.optimizer.weightDecay = 0.01
        config.optimizer.paramRules = SegFormerSegmentation.optimizerRules
        config.gradClipMaxNorm = nil
    }

    /// AFFormer (afformer-segvit.md 1.6): AdamW 3e-4 (ADE20K) / 4e-4 (Cityscapes), wd 0.01 on every parameter,
    /// eval every 5000 iterations, ResizeToMultiple(32) at test, whole inference on Cityscapes too.
    static func applyAFFormer(_ config: inout TrainConfig) {
        config.optimizer.lr = config.dataset.kind == .cityscapes ? 4e-4 : 3e-4
        config.optimizer.weightDecay = 0.01
        config.optimizer.paramRules = [:]
        config.gradClipMaxNorm = nil
        config.evalInterval = 5_000
        if config.dataset.kind == .cityscapes {
            config.test.mode = .whole
        } else {
            config.test.sizeDivisor = 32
        }
    }

    /// SegViT ViT-L (afformer-segvit.md 2.6): AdamW 2e-5, wd 0.01, head lr x10, `norm` and `ln` without decay,
    /// clip 35, "jax" normalisation (mean = std = 127.5); ADE20K at 640 with slide test 640 / 608.
    static func applySegViT(_ config: inout TrainConfig) {
        config.optimizer.lr = 2e-5
        config.optimizer.weightDecay = 0.01
        config.optimizer.paramRules = [
            "head": ParamRule(lrMult: 10), "norm": ParamRule(decayMult: 0), "ln": ParamRule(decayMult: 0),
        ]
        config.gradClipMaxNorm = 35
        config.augmentation.mean = [127.5, 127.5, 127.5]
        config.augmentation.std = [127.5, 127.5, 127.5]
        if config.dataset.kind == .ade20k {
            let scale = ResizeScale(longSide: 2048, shortSide: 640)
            config.cropSize = .square(640)
            config.augmentation.scale = scale
            config.test = TestConfig(mode: .slide, scale: scale, slideCrop: .square(640), slideStride: .square(608))
        }
    }
}
