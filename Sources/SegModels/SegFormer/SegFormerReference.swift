import Torch
import TorchIO

// Published figures of SegFormer measured on the official code: FLOPs (mmengine/fvcore convention, shared/reference/flops.md
// and the manifests) and official PyTorch CPU timings (shared/reference/cpu-baselines.md, cpu-anchors.md). `swiftseg flops` and `swiftseg bench` show them beside their own measurements.

extension ModelFamily {
    static let segformerFlops: [FlopReference] = [
        FlopReference(model: "segformer-b0", height: 512, width: 512, numClasses: 150, totalG: 8.49, paramsM: 3.75, backboneG: 3.23,
                      headG: 5.26, operatorsG: FlopReference.operators(5.46, 1.89, 1.04, 0.03, 0.01, 0.07, 0.00), convSplitG: FlopReference.convSplit(0.46, 4.92, 0.07),
                      paperG: 8.4),
        FlopReference(model: "segformer-b1", height: 512, width: 512, numClasses: 150, totalG: 16.02, paramsM: 13.72, backboneG: 10.50,
                      headG: 5.52, paperG: 15.9),
        FlopReference(model: "segformer-b2", height: 512, width: 512, numClasses: 150, totalG: 62.66, paramsM: 27.46, backboneG: 20.34,
                      headG: 42.33, attentionG: 3.892, operatorsG: FlopReference.operators(43.13, 15.32, 3.89, 0.10, 0.03, 0.20, 0.00),
                      convSplitG: FlopReference.convSplit(2.31, 40.54, 0.27), paperG: 62.4),
        FlopReference(model: "segformer-b2", height: 1024, width: 1024, numClasses: 150, totalG: 297.36, attentionG: 62.277, paperG: 279),
        FlopReference(model: "segformer-b2", height: 1536, width: 1536, numClasses: 150, totalG: 844.22, attentionG: 315.277, paperG: 802),
        FlopReference(model: "segformer-b3", height: 512, width: 512, numClasses: 150, totalG: 79.33, paramsM: 47.34, backboneG: 37.00,
                      headG: 42.33, paperG: 79.0),
        FlopReference(model: "segformer-b4", height: 512, width: 512, numClasses: 150, totalG: 95.99, paramsM: 64.11, backboneG: 53.66,
                      headG: 42.33, paperG: 95.7),
        FlopReference(model: "segformer-b5", height: 512, width: 512, numClasses: 150, totalG: 111.97, paramsM: 84.71, backboneG: 69.64,
                      headG: 42.33),
        FlopReference(model: "segformer-b5", height: 640, width: 640, numClasses: 150, totalG: 183.86, paramsM: 84.71, backboneG: 117.72,
                      headG: 66.14, paperG: 183.3),
    ]

    static let segformerTimings: [OfficialTiming] = [
        OfficialTiming.inference("segformer-b0", .float32, "eager fp32", 357, 307, 511, peak: 1037, baseline: nil, increase: 447, .cpuBaselines),
        OfficialTiming.inference("segformer-b2", .float32, "eager fp32", 2142, 1827, 3331, peak: 1512, baseline: nil, increase: 922, .cpuBaselines),
        OfficialTiming.inference("segformer-b0", .float32, "eager fp32 (NCHW)", 221, 185, 356, peak: 1054, baseline: 485, .cpuAnchors),
        OfficialTiming.inference("segformer-b0", .bfloat16, "eager, autocast bf16", 140, 132, 335, peak: 913, baseline: 485, .cpuAnchors),
        OfficialTiming.inference("segformer-b2", .float32, "eager fp32 (NCHW)", 1794, 1345, 3092, peak: 1581, baseline: 485, .cpuAnchors),
        OfficialTiming.inference("segformer-b2", .bfloat16, "eager, autocast bf16", 623, 579, 710, peak: 1367, baseline: 485, .cpuAnchors),
    ]
}
