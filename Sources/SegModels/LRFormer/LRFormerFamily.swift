import Torch

// LRFormer's registry entry: variants, the official test protocol and recipe (yuhuan-wu/LRFormer @ 59f2764,
// configs_local/lrformer/lrformer-{t,s,b,l}-160k_ade20k.py; Cityscapes and COCO-Stuff as lrformer.md describes them).

extension ModelFamily {
    public static let lrformer = ModelFamily(
        name: "lrformer",
        title: "LRFormer",
        reference: "Low-Resolution Self-Attention for Semantic Segmentation (TPAMI 2025), github.com/yuhuan-wu/LRFormer",
        variants: LRFormerConfig.variants.map { v, config in
            ModelVariant(name: "lrformer-\(v)", summary: "LRFormer-\(v.uppercased()) + LRHead (\(config.decoderChannels!) ch)") {
                LRFormerSegmentation(name: "lrformer-\(v)", config: config, numClasses: $0)
            }
        } + LRFormerConfig.variants.map { v, config in
            ModelVariant(name: "lrformer-\(v)-cls", summary: "LRFormer-\(v.uppercased()) ImageNet classifier (query 7x7)",
                         kind: .classifier, defaultClasses: 1000) {
                LRFormerClassifier(name: "lrformer-\(v)-cls", config: config, numClasses: $0)
            }
        } + LRFormerConfig.variants.map { v, config in
            ModelVariant(name: "lrformer-\(v)-backbone", summary: "LRFormer-\(v.uppercased()) encoder alone (F1..F4)",
                         kind: .backbone, defaultClasses: 0) { _ in LRFormerEncoder(config) }
        } + [
            ModelVariant(name: "lrformer-tiny", summary: "tiny test configuration of the parity fixtures", kind: .testing,
                         defaultClasses: 5) { LRFormerSegmentation(name: "lrformer-tiny", config: .tiny, numClasses: $0) },
        ],
        // Any size runs (adaptive pooling enlarges small maps); 32 keeps every stage at least one cell.
        inputConstraints: InputConstraints(minimumSide: 32),
        testProtocol: { dataset, variant in
            let large = variant == "lrformer-l"
            var p = TestProtocol.mmsegDefaults(dataset)
            switch dataset {
            case .ade20k, .cocoStuff:
                // AlignResize(scale=(2048, 512), size_divisor=32), whole; L tests at (2560, 640).
                p.sizeDivisor = 32
                if large {
                    p.scale = ResizeScale(longSide: 2560, shortSide: 640)
                    p.slideCrop = .square(640)
                    p.slideStride = .square(427)
                }
            case .cityscapes:
                break  // Resize (2048, 1024), slide 1024 / 768, as mmseg's Cityscapes configs.
            }
            switch dataset {
            case .ade20k:
                return Official(p, source: "yuhuan-wu/LRFormer configs_local/lrformer/\(large ? "lrformer-l" : "lrformer-s")-160k_ade20k.py test_pipeline")
            case .cityscapes:
                return Official(p, source: "no LRFormer config released for Cityscapes: the paper's slide 1024 protocol on mmseg's cityscapes.py")
            case .cocoStuff:
                return Official(p, source: "no LRFormer config released for COCO-Stuff: the ADE20K test pipeline (AlignResize /32) on coco-stuff164k.py")
            }
        },
        recipe: { dataset, variant in
            var r = TrainingRecipe.mmsegDefaults(dataset)
            r.lr = 6e-5
            r.weightDecay = 0.01
            // custom_keys {'norm': decay 0, 'head': lr x10}; `head` is tried first, so decoder norms keep decay.
            r.paramRules = ["head": ParamRule(lrMult: 10), "norm": ParamRule(decayMult: 0)]
            r.gradClipMaxNorm = 35
            if variant == "lrformer-l" && dataset == .ade20k {
                r.cropSize = .square(640)
                r.trainScale = ResizeScale(longSide: 2560, shortSide: 640)
            }
            let file = dataset == .ade20k ? "configs_local/lrformer/\(variant)-160k_ade20k.py (optim_wrapper, param_scheduler)"
                : "the ADE20K optim_wrapper on mmseg's \(dataset.rawValue) dataset and schedule (no released config)"
            return Official(r, source: "yuhuan-wu/LRFormer " + file)
        },
        // norm_cfg = dict(type='SyncBN') is given to the decode head only; the stem's BatchNorms stay per process.
        syncBatchNormPrefixes: ["decode_head."],
        flopReferences: lrformerFlops,
        officialTimings: lrformerTimings)
}

extension LRFormerEncoder: FeatureExtractor {}
