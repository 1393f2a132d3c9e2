import Torch
import TorchIO

// AFFormer's registry entry: variants, and the official test protocol and recipe of dongbo811/AFFormer @ c42ad25
// (configs/AFFormer/AFFormer_{tiny,small,base}_{ade20k,cityscapes}.py over configs/_base_/models/afformer.py,
// configs/_base_/datasets/{ade20k,cityscapes_1024x1024}.py and configs/_base_/schedules/schedule_160k.py;
// the repo's own fork of mmseg 0.21.1).

extension ModelFamily {
    public static let afformer = ModelFamily(
        name: "afformer",
        title: "AFFormer",
        reference: "Head-Free Lightweight Semantic Segmentation with Linear Transformer (AAAI 2023), github.com/dongbo811/AFFormer",
        variants: AFFormerConfig.variants.map { v, config in
            ModelVariant(name: "afformer-\(v)",
                         summary: "AFFormer-\(v): AFF backbone (\(config.embedDims.map(String.init).joined(separator: "/")) ch) + CLS head") {
                AFFormerSegmentation(name: "afformer-\(v)", config: config, numClasses: $0)
            }
        },
        // Every size runs (stride-s convs give floor((n-1)/s)+1 cells, adaptive pooling enlarges small maps);
        // 32 keeps the stride-32 transformer input at one cell or more.
        inputConstraints: InputConstraints(minimumSide: 32),
        testProtocol: { dataset, variant in
            let v = variant.replacingOccurrences(of: "afformer-", with: "")
            // test_cfg mode='whole' for every dataset; mmseg 0.x MultiScaleFlipAug for --aug-test.
            var p = TestProtocol.mmsegDefaults(dataset, tta: .scaleTestScale)
            p.mode = .whole
            switch dataset {
            case .ade20k:
                // Resize(2048, 512, keep_ratio) then ResizeToMultiple(32): mmcv's imresize_to_multiple rounds up.
                p.sizeDivisor = 32
                return Official(p, source: "dongbo811/AFFormer configs/AFFormer/AFFormer_\(v)_ade20k.py "
                    + "(configs/_base_/datasets/ade20k.py test_pipeline, configs/_base_/models/afformer.py test_cfg)")
            case .cityscapes:
                // Resize(2048, 1024, keep_ratio), whole image: no ResizeToMultiple, no sliding window.
                return Official(p, source: "dongbo811/AFFormer configs/AFFormer/AFFormer_\(v)_cityscapes.py "
                    + "(configs/_base_/datasets/cityscapes_1024x1024.py test_pipeline, configs/_base_/models/afformer.py test_cfg)")
            case .cocoStuff:
                // No AFFormer COCO-Stuff config upstream: the repo's COCO-Stuff pipeline (Resize (2048, 512), no rounding).
                return Official(p, source: "dongbo811/AFFormer configs/_base_/datasets/coco_stuff10k.py test_pipeline "
                    + "(no AFFormer COCO-Stuff config upstream)")
            }
        },
        recipe: { dataset, variant in
            let v = variant.replacingOccurrences(of: "afformer-", with: "")
            var r = TrainingRecipe.mmsegDefaults(dataset)
            // AdamW (0.9, 0.999), weight decay 0.01 on every parameter: the config's comment mentions no-decay
            // groups, but it sets no paramwise_cfg. No gradient clipping (optimizer_config = dict()).
            r.optimizer = .adamw
            r.lr = dataset == .cityscapes ? 4e-4 : 3e-4
            r.betas = [0.9, 0.999]
            r.weightDecay = 0.01
            r.paramRules = [:]
            r.gradClipMaxNorm = nil
            // poly, power 1, min_lr 0, linear warm-up over 1500 iterations from 1e-6; 160k iterations, eval every 5000.
            r.policy = .poly
            r.power = 1
            r.minLR = 0
            r.warmupIters = 1500
            r.warmupRatio = 1e-6
            r.iterations = 160_000
            r.evalInterval = 5000
            switch dataset {
            case .ade20k:
                // samples_per_gpu 8; "trained on 2 GPUs" per the config (tools/cmd.sh launches 4).
                r.batchSize = 16
                return Official(r, source: "dongbo811/AFFormer configs/AFFormer/AFFormer_\(v)_ade20k.py "
                    + "(optimizer, lr_config, data; schedule_160k.py, datasets/ade20k.py)")
            case .cityscapes:
                // samples_per_gpu 4 on 2 GPUs; crop 1024x1024 from (2048, 1024) x [0.5, 2].
                r.batchSize = 8
                return Official(r, source: "dongbo811/AFFormer configs/AFFormer/AFFormer_\(v)_cityscapes.py "
                    + "(optimizer, lr_config, data; schedule_160k.py, datasets/cityscapes_1024x1024.py)")
            case .cocoStuff:
                r.batchSize = 16
                return Official(r, source: "no AFFormer COCO-Stuff config upstream: the ADE20K recipe of "
                    + "dongbo811/AFFormer configs/AFFormer/AFFormer_\(v)_ade20k.py")
            }
        },
        keyMaps: [.afformerImageNetBackbone],
        flopReferences: afformerFlops)
}

extension CheckpointKeyMap {
    /// The ImageNet-1k backbones the configs start from (`AFFormer_<v>_ImageNet1k.pth`, loaded upstream into the
    /// backbone with strict=False): backbone keys without the `backbone.` prefix; anything else (a classifier) is dropped.
    static let afformerImageNetBackbone = CheckpointKeyMap(
        name: "AFFormer ImageNet-1k backbone",
        matches: { keys in
            keys.contains { $0.hasPrefix("stem.") } && !keys.contains { $0.hasPrefix("backbone.") }
        },
        convert: { dict in
            let backboneParts = ["stem.", "patch_embed_stages.", "mhca_stages."]
            return HostTensorDict(dict.items.compactMap { key, value in
                backboneParts.contains { key.hasPrefix($0) } ? ("backbone." + key, value) : nil
            })
        })
}
