import Torch

// SegViT's registry entry (zbwxp/SegVit @ 763137e, mmseg 0.24 / mmcv 1.4 configs): variants, the official test
// protocol and recipe per dataset, the ATM loss, and the ImageNet ViT layouts it fine-tunes from.

extension SegViTConfig {
    /// A registered model: name, config, default classes, normalisation, summary.
    struct Registered {
        let name: String
        let config: SegViTConfig
        let classes: Int
        let normalization: Normalization
        let kind: ModelVariant.Kind
        let summary: String
    }

    static let registered: [Registered] = [
        // ViT-B: the author's ViT-B config (zbwxp/SegVit#2) uses configs/_base_/datasets/ade20k.py, whose Normalize is
        // ImageNet's mean/std; only the ViT-L configs override it with the "jax" mean = std = 127.5.
        Registered(name: "segvit-vit-b", config: .vitB, classes: 150, normalization: .imageNet, kind: .segmentation,
                   summary: "SegViT ViT-B/16 + ATM (512)"),
        Registered(name: "segvit-vit-l", config: .vitL, classes: 150, normalization: .jax, kind: .segmentation,
                   summary: "SegViT ViT-L/16 + ATM (640)"),
        Registered(name: "segvit-vit-l-shrunk", config: .vitLShrunk, classes: 150, normalization: .jax, kind: .segmentation,
                   summary: "SegViT ViT-L/16 Shrunk: QD at layer 8 + QU/TPN-ATM (640)"),
        Registered(name: "segvit-vit-l-512", config: .vitL512, classes: 171, normalization: .jax, kind: .segmentation,
                   summary: "SegViT ViT-L/16 + ATM (512, the COCO-Stuff-10K model)"),
        Registered(name: "segvit-vit-l-shrunk-512", config: .vitLShrunk512, classes: 171, normalization: .jax, kind: .segmentation,
                   summary: "SegViT ViT-L/16 Shrunk (512, the COCO-Stuff-10K model)"),
        Registered(name: "segvit-tiny", config: .tiny, classes: 10, normalization: .imageNet, kind: .testing,
                   summary: "reduced ViT (depth 4, 192) + ATM of the parity fixture (128)"),
        Registered(name: "segvit-tiny-shrunk", config: .tinyShrunk, classes: 10, normalization: .imageNet, kind: .testing,
                   summary: "reduced Shrunk ViT (depth 4, 96, QD at 2) + TPN-ATM of the parity fixture (128)"),
    ]

    static func registered(_ name: String) -> Registered {
        guard let r = registered.first(where: { $0.name == name }) else { preconditionFailure("unknown SegViT variant \(name)") }
        return r
    }
}

/// The official configs a (dataset, img_size) pair comes from; other pairs reuse the nearest one's numbers with
/// the variant's own window, and say so.
enum SegViTConfigs {
    static let repo = "zbwxp/SegVit"
    static let vitB = "\(repo)#2 (the author's ViT-B config: configs/_base_/models/seg_vit-b16.py + _base_/datasets/ade20k.py + _base_/schedules/schedule_160k.py)"
    static let ade640 = "\(repo) configs/segvit/segvit_vit-l_jax_640x640_160k_ade20k.py"
    static let coco512 = "\(repo) configs/segvit/segvit_vit-l_jax_512x512_80k_cocostuff10k.py"
    static let shrinkADE = "\(repo) configs/segvit/shrink/segvit_vit-l_jax_shrink8_tpnatm.py (on \(ade640))"
    static let shrinkCOCO = "\(repo) configs/segvit/shrink/segvit_vit-l_jax_shrink8_tpnatm_coco.py (on \(coco512))"

    /// Slide stride of the official windows (512 / 341 in seg_vit-b16.py and the COCO config, 640 / 608 in the ADE20K
    /// ViT-L config, 480 / 320 for PASCAL-Context); other windows: two thirds, as mmseg's usual 512 / 341.
    static func stride(window: Int) -> Int {
        switch window {
        case 512: return 341
        case 640: return 608
        case 480: return 320
        default: return window * 2 / 3
        }
    }

    static func source(_ dataset: BenchmarkDataset, _ r: SegViTConfig.Registered) -> String {
        let shrunk = r.config.head == .tpnATM
        switch (dataset, r.name) {
        case (.ade20k, "segvit-vit-b"): return vitB
        case (.ade20k, "segvit-vit-l"): return ade640
        case (.ade20k, "segvit-vit-l-shrunk"): return shrinkADE
        case (.cocoStuff, "segvit-vit-l-512"): return coco512 + " (COCO-Stuff-10K)"
        case (.cocoStuff, "segvit-vit-l-shrunk-512"): return shrinkCOCO + " (COCO-Stuff-10K)"
        case (.cityscapes, _):
            return "no SegViT Cityscapes config: mmseg 0.x's Cityscapes pipeline and schedule, the optimiser of "
                + "\(shrunk ? shrinkADE : ade640), windows of the model's img_size \(r.config.imageSize)"
        default:
            return "derived: \(dataset == .cocoStuff ? coco512 : ade640) with windows and crops of the model's img_size \(r.config.imageSize)"
        }
    }
}

extension ModelFamily {
    public static let segvit = ModelFamily(
        name: "segvit",
        title: "SegViT",
        reference: "SegViT: Semantic Segmentation with Plain Vision Transformers (NeurIPS 2022), github.com/zbwxp/SegVit",
        variants: SegViTConfig.registered.map { r in
            ModelVariant(name: r.name, summary: r.summary, kind: r.kind, defaultClasses: r.classes, normalization: r.normalization) {
                SegViTSegmentation(name: r.name, config: r.config, numClasses: $0)
            }
        },
        // The ATM head reshapes its token grid to a square and the QD layer halves it: square inputs with an even grid
        // of 16-pixel patches (the slide windows of every official protocol are img_size squares).
        inputConstraints: InputConstraints(minimumSide: 32, multiple: 32, square: true),
        testProtocol: { dataset, variant in
            let r = SegViTConfig.registered(variant)
            let window = r.config.imageSize
            // Resize(img_scale, keep_ratio=True) (the COCO config adds min_size 512, which only acts on images more
            // than 4:1), then slide inference with img_size windows; mmseg 0.x --aug-test ratios + flip.
            var p = TestProtocol.mmsegDefaults(dataset, tta: .scaleTestScale)
            p.mode = .slide
            if dataset != .cityscapes { p.scale = ResizeScale(longSide: 2048, shortSide: window) }
            p.slideCrop = .square(window)
            p.slideStride = .square(SegViTConfigs.stride(window: window))
            return Official(p, source: SegViTConfigs.source(dataset, r) + " (test_pipeline, test_cfg)")
        },
        recipe: { dataset, variant in
            let r = SegViTConfig.registered(variant)
            let size = r.config.imageSize
            var recipe = TrainingRecipe.mmsegDefaults(dataset)
            // optimizer: AdamW 2e-5, custom_keys {norm: decay 0, ln: decay 0, head: lr x10}: `head` is tried first, so
            // every decode_head parameter (its LayerNorms included) gets lr x10 with decay; the ViT's ln1/ln2 no decay.
            recipe.optimizer = .adamw
            recipe.lr = 2e-5
            recipe.betas = [0.9, 0.999]
            recipe.weightDecay = 0.01
            recipe.paramRules = ["norm": ParamRule(decayMult: 0), "ln": ParamRule(decayMult: 0), "head": ParamRule(lrMult: 10)]
            recipe.gradClipMaxNorm = 35
            recipe.policy = .poly
            recipe.warmupIters = 1500
            recipe.warmupRatio = 1e-6
            recipe.power = 1
            recipe.minLR = 0
            // samples_per_gpu 2 on tools/dist_train.sh's 4 GPUs.
            recipe.batchSize = 8
            // The official configs crop at img_size (the ATM's masks are tied to it).
            recipe.cropSize = .square(size)
            switch dataset {
            case .ade20k:
                recipe.iterations = 160_000
                recipe.trainScale = ResizeScale(longSide: 2048, shortSide: size)
                recipe.evalInterval = 4_000  // schedules/schedule_160k.py
            case .cocoStuff:
                // COCO-Stuff-10K: 80k iterations, poly power 2, weight decay 0.02, labels with 0 = unlabelled.
                recipe.iterations = 80_000
                recipe.power = 2
                recipe.weightDecay = 0.02
                recipe.trainScale = ResizeScale(longSide: 2048, shortSide: size)
                recipe.reduceZeroLabel = true
                recipe.evalInterval = 4_000  // schedules/schedule_80k.py
            case .cityscapes:
                break  // mmseg's Cityscapes defaults (2048 x 1024, 160k)
            }
            return Official(recipe, source: SegViTConfigs.source(dataset, r) + " (optimizer, lr_config, data)")
        },
        loss: .atm,
        keyMaps: [.timmViT, .mmsegViTBackbone],
        flopReferences: segvitFlops)
}
