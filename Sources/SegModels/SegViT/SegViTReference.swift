import Torch
import TorchIO

// Published figures of SegViT measured on the official code: FLOPs (mmengine/fvcore convention, shared/reference/flops.md
// and the manifests). `swiftseg flops` and `swiftseg bench` show them beside their own measurements.

extension ModelFamily {
    static let segvitFlops: [FlopReference] = [
        // SegViT: shared/reference/segvit/manifest-*.json (mmengine FlopAnalyzer on zbwxp/SegVit with an SDPA handler). The
        // totals include mmseg's final resize of the scores to the input (0.16 G at 512, 0.25 G at 640), which `logits`
        // leaves out; the ATM head's einsum and mask upsampling are not attributed to `decode_head` there, so only the
        // Shrunk rows give a head figure.
        FlopReference(model: "segvit-vit-b", height: 512, width: 512, numClasses: 150, totalG: 120.883, paramsM: 108.736279,
                      backboneG: 106.999, paperG: 120.9),
        FlopReference(model: "segvit-vit-l", height: 640, width: 640, numClasses: 150, totalG: 637.871, paramsM: 344.305303,
                      backboneG: 610.664, paperG: 637.9),
        FlopReference(model: "segvit-vit-l", height: 512, width: 512, numClasses: 150, totalG: 384.527, paramsM: 344.305303,
                      backboneG: 361.834),
        FlopReference(model: "segvit-vit-l-shrunk", height: 640, width: 640, numClasses: 150, totalG: 373.533, paramsM: 344.598679,
                      backboneG: 293.749, headG: 79.539, paperG: 373.5),
        FlopReference(model: "segvit-vit-l-shrunk", height: 512, width: 512, numClasses: 150, totalG: 251.546, paramsM: 344.598679,
                      backboneG: 176.901, headG: 74.488),
        // The COCO-Stuff-10K models (img_size 512, 171 classes): the repository README's figures (no manifest).
        FlopReference(model: "segvit-vit-l-512", height: 512, width: 512, numClasses: 171, totalG: 383.9, paperG: 383.9),
        FlopReference(model: "segvit-vit-l-shrunk-512", height: 512, width: 512, numClasses: 171, totalG: 224.8, paperG: 224.8),
    ]
}
