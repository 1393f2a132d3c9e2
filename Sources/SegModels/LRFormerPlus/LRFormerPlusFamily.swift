import Torch

// LRFormer+: the LRFormer encoder with mmdet's Mask2Former head (yuhuan-wu/LRFormer @ 59f2764,
// configs_local/lrformer/lrformer-{t,s,b}-plus-160k_ade20k-512x512.py and lrformer-l-plus-in22k-160k_ade20k-640x640.py,
// decode_head from mask2former_r50_8xb2-160k_ade20k-640x640.py). See docs/lrformer-plus-notes.md.

extension LRFormerConfig {
    /// The `-plus` backbones: the plain encoders (the configs' `q_pool_ratios` is swallowed by `**kwargs`), with
    /// the `-plus` configs' drop-path rates.
    static let plusVariants: [(name: String, config: LRFormerConfig, source: String)] = [
        ("t", with(.t, dropPath: 0.2), "lrformer-t-plus-160k_ade20k-512x512.py"),
        ("s", with(.s, dropPath: 0.3), "lrformer-s-plus-160k_ade20k-512x512.py"),
        ("b", with(.b, dropPath: 0.4), "lrformer-b-plus-160k_ade20k-512x512.py"),
        ("l", with(.l, dropPath: 0.6), "lrformer-l-plus-in22k-160k_ade20k-640x640.py"),
    ]

    private static func with(_ c: LRFormerConfig, dropPath: Double) -> LRFormerConfig {
        var c = c
        c.dropPathRate = dropPath
        c.decoderChannels = nil  // no LRHead
        return c
    }
}

/// LRFormer encoder + Mask2Former head, as the `-plus` configs build it.
public func makeLRFormerPlus(name: String, backbone: LRFormerConfig, head: Mask2FormerConfig, numClasses: Int) -> Mask2FormerSegmentation {
    Mask2FormerSegmentation(name: name, backbone: LRFormerEncoder(backbone), head: head, numClasses: numClasses)
}

extension ModelFamily {
    public static let lrformerPlus: ModelFamily = ModelFamily(
        name: "lrformer-plus",
        title: "LRFormer+",
        reference: "Low-Resolution Self-Attention for Semantic Segmentation (TPAMI 2025), LRFormer+ = LRFormer encoder + "
            + "Mask2Former decoder, github.com/yuhuan-wu/LRFormer",
        variants: LRFormerConfig.plusVariants.map { v, config, _ in
            ModelVariant(name: "lrformer-\(v)-plus", summary: "LRFormer-\(v.uppercased())+: LRFormer-\(v.uppercased()) + Mask2Former (100 queries, 9 layers)") {
                makeLRFormerPlus(name: "lrformer-\(v)-plus", backbone: config, head: Mask2FormerConfig.official(inChannels: config.embedDims), numClasses: $0)
            }
        } + [
            ModelVariant(name: "lrformer-plus-tiny", summary: "tiny test configuration of the LRFormer+ parity fixtures", kind: .testing,
                         defaultClasses: 5) {
                makeLRFormerPlus(name: "lrformer-plus-tiny", backbone: LRFormerConfig.tiny,
                             head: Mask2FormerConfig.tiny(inChannels: LRFormerConfig.tiny.embedDims), numClasses: $0)
            },
        ],
        // Any size runs; 32 keeps the stride-32 level at least one cell.
        inputConstraints: InputConstraints(minimumSide: 32),
        testProtocol: { dataset, variant in
            var p = TestProtocol.mmsegDefaults(dataset)
            // Resize keep-ratio to (2048, 512) (L+: (2560, 640)), whole. The data preprocessor then pads to a multiple
            // of 32, and the prediction is cropped back: padding, not a resize, so no `sizeDivisor` here.
            if variant == "lrformer-l-plus" && dataset == .ade20k {
                p.scale = ResizeScale(longSide: 2560, shortSide: 640)
                p.slideCrop = .square(640)
                p.slideStride = .square(427)
            }
            guard dataset == .ade20k else {
                return Official(p, source: "mmseg 1.x defaults: yuhuan-wu/LRFormer has no LRFormer+ config for \(dataset.rawValue)")
            }
            return Official(p, source: "yuhuan-wu/LRFormer configs_local/lrformer/\(configFile(variant)) test_pipeline (ade20k base)")
        },
        recipe: { dataset, variant in
            var r = TrainingRecipe.mmsegDefaults(dataset)
            let large = variant == "lrformer-l-plus"
            // optimizer: AdamW lr 1e-4, weight decay 0.05 (base mask2former config).
            r.lr = 1e-4
            r.weightDecay = 0.05
            r.eps = 1e-8
            r.betas = [0.9, 0.999]
            r.paramRules = lrformerPlusParamRules(depths: LRFormerConfig.plusVariants.first { "lrformer-\($0.name)-plus" == variant }?
                .config.depths ?? LRFormerConfig.tiny.depths)
            // clip_grad max_norm: 0.01 (T+), 0.1 (S+, B+, L+).
            r.gradClipMaxNorm = variant == "lrformer-t-plus" || variant == "lrformer-plus-tiny" ? 0.01 : 0.1
            // PolyLR power 0.9, eta_min 0, no warm-up; 160k iterations, validation every 5000.
            r.policy = .poly
            r.power = 0.9
            r.minLR = 0
            r.warmupIters = 0
            guard dataset == .ade20k else {
                return Official(r, source: "yuhuan-wu/LRFormer configs_local/lrformer/\(configFile(variant)) optimiser and schedule; "
                    + "mmseg 1.x \(dataset.rawValue) defaults for the data (no LRFormer+ config for it)")
            }
            r.iterations = 160_000
            r.evalInterval = 5000
            // 8 GPUs x 2 images (base), x 4 in the S+/B+/L+ configs.
            r.batchSize = variant == "lrformer-t-plus" || variant == "lrformer-plus-tiny" ? 16 : 32
            if large {
                r.cropSize = .square(640)
                r.trainScale = ResizeScale(longSide: 2560, shortSide: 640)
            }
            return Official(r, source: "yuhuan-wu/LRFormer configs_local/lrformer/\(configFile(variant)) (optim_wrapper, clip_grad, "
                + "train_dataloader) + mask2former_r50_8xb2-160k_ade20k-640x640.py (optimizer, param_scheduler, train_cfg)")
        },
        loss: .mask2former)
}

private func configFile(_ variant: String) -> String {
    LRFormerConfig.plusVariants.first { "lrformer-\($0.name)-plus" == variant }?.source ?? "lrformer-t-plus-160k_ade20k-512x512.py"
}

/// The `-plus` configs' `paramwise_cfg`, in mmengine's name-matching form:
/// - `custom_keys`: backbone lr x0.1; the backbone's LayerNorms (`block{s}.{i}.norm`, `.attn.norm`,
///   `patch_embed{s}.norm`, plus the configs' `backbone.patch_embed.norm` / `backbone.norm`, which match nothing
///   in LRFormer) lr x0.1 and no decay; `query_embed`, `query_feat`, `level_embed` no decay.
/// - `norm_decay_mult=0.0`: mmengine applies it by module type to norm layers no custom key matched, which here are
///   exactly the head's GroupNorms (`.gn.`) and LayerNorms (`.norms.`, `.post_norm.`); those three name keys say
///   the same (checked against the module types by a test).
public func lrformerPlusParamRules(depths: [Int]) -> [String: ParamRule] {
    let backboneNorm = ParamRule(lrMult: 0.1, decayMult: 0)
    let embed = ParamRule(lrMult: 1, decayMult: 0)
    var rules: [String: ParamRule] = [
        "backbone": ParamRule(lrMult: 0.1, decayMult: 1),
        "backbone.patch_embed.norm": backboneNorm,
        "backbone.norm": backboneNorm,
        "query_embed": embed,
        "query_feat": embed,
        "level_embed": embed,
    ]
    for (s, depth) in depths.enumerated() {
        for i in 0..<depth {
            rules["backbone.block\(s + 1).\(i).norm"] = backboneNorm
            rules["backbone.block\(s + 1).\(i).attn.norm"] = backboneNorm
        }
        rules["backbone.patch_embed\(s + 1).norm"] = backboneNorm
    }
    // norm_decay_mult = 0 for the head's norm layers.
    for key in [".gn.", ".norms.", ".post_norm."] { rules[key] = ParamRule(lrMult: 1, decayMult: 0) }
    return rules
}
