import Foundation
import Torch

// SegFormer's registry entry (Hugging Face parameter names; the recipe and test protocol of mmseg 1.x's
// configs/segformer/segformer_mit-b*_8xb2-160k_ade20k-512x512.py and ..._8xb1-160k_cityscapes-1024x1024.py).

extension ModelFamily {
    public static let segformer = ModelFamily(
        name: "segformer",
        title: "SegFormer",
        reference: "SegFormer (NeurIPS 2021), github.com/NVlabs/SegFormer; Hugging Face SegformerForSemanticSegmentation keys",
        variants: SegFormerConfig.variants.map { v, config in
            ModelVariant(name: "segformer-\(v)",
                         summary: "SegFormer-\(v.uppercased()): MiT-\(v.uppercased()) + All-MLP head (\(config.decoderHiddenSize) ch)") {
                SegFormerSegmentation(name: "segformer-\(v)", config: config, numClasses: $0)
            }
        },
        // Every spatial-reduction conv needs at least R x R cells: 29 pixels for the MiT stage layout.
        inputConstraints: InputConstraints(minimumSide: SegFormerConfig.b0.minimumInputSize),
        testProtocol: { dataset, variant in
            var p = TestProtocol.mmsegDefaults(dataset)  // Resize(scale, keep_ratio=True): no rounding
            if variant == "segformer-b5" && dataset == .ade20k {
                p.scale = ResizeScale(longSide: 2048, shortSide: 640)
                p.slideCrop = .square(640)
                p.slideStride = .square(427)
            }
            let file: String
            switch dataset {
            case .ade20k: file = "configs/segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py"
            case .cityscapes: file = "configs/segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py"
            case .cocoStuff: file = "configs/_base_/datasets/coco-stuff164k.py (no SegFormer config for it)"
            }
            return Official(p, source: "open-mmlab/mmsegmentation 1.x \(file) (test_pipeline, test_cfg)")
        },
        recipe: { dataset, variant in
            var r = TrainingRecipe.mmsegDefaults(dataset)
            r.lr = 6e-5
            r.weightDecay = 0.01
            // `pos_block` has no match in MiT; kept as upstream lists it.
            r.paramRules = ["pos_block": ParamRule(decayMult: 0), "norm": ParamRule(decayMult: 0), "head": ParamRule(lrMult: 10)]
            r.gradClipMaxNorm = nil
            if variant == "segformer-b5" && dataset == .ade20k {
                r.cropSize = .square(640)
                r.trainScale = ResizeScale(longSide: 2048, shortSide: 640)
            }
            let file: String
            switch dataset {
            case .ade20k: file = "configs/segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py"
            case .cityscapes: file = "configs/segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py"
            case .cocoStuff: file = "no COCO-Stuff config: the ADE20K optimiser on configs/_base_/datasets/coco-stuff164k.py + schedule_80k.py"
            }
            return Official(r, source: "open-mmlab/mmsegmentation 1.x " + file)
        },
        loadFolder: { folder in
            let (model, names) = try SegFormerSegmentation.load(checkpointFolder: folder)
            return (model, names)
        },
        // norm_cfg = dict(type='SyncBN') is given to the decode head only; the stem's BatchNorms stay per process.
        syncBatchNormPrefixes: ["decode_head."],
        flopReferences: segformerFlops,
        officialTimings: segformerTimings)
}
