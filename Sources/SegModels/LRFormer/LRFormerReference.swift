import Torch
import TorchIO

// Published figures of LRFormer measured on the official code: FLOPs (mmengine/fvcore convention, shared/reference/flops.md
// and the manifests) and official PyTorch CPU timings (shared/reference/cpu-baselines.md, cpu-anchors.md). `swiftseg flops` and `swiftseg bench` show them beside their own measurements.

extension ModelFamily {
    static let lrformerFlops: [FlopReference] = [
        FlopReference(model: "lrformer-t", height: 512, width: 512, numClasses: 150, totalG: 16.69, paramsM: 13.26, backboneG: 9.16,
                      headG: 7.53, operatorsG: FlopReference.operators(14.02, 1.18, 1.34, 0.05, 0.02, 0.04, 0.03), convSplitG: FlopReference.convSplit(1.49, 12.17, 0.37),
                      paperG: 17),
        FlopReference(model: "lrformer-s", height: 512, width: 512, numClasses: 150, totalG: 39.98, paramsM: 32.22, backboneG: 24.30,
                      headG: 15.68, attentionG: 0.758, operatorsG: FlopReference.operators(34.59, 2.91, 2.21, 0.11, 0.03, 0.06, 0.06),
                      convSplitG: FlopReference.convSplit(2.62, 31.24, 0.73), paperG: 40),
        FlopReference(model: "lrformer-s", height: 1024, width: 1024, numClasses: 150, totalG: 143.59, attentionG: 0.867, paperG: 145),
        FlopReference(model: "lrformer-s", height: 1536, width: 1536, numClasses: 150, totalG: 316.27, attentionG: 1.048, paperG: 319),
        FlopReference(model: "lrformer-b", height: 512, width: 512, numClasses: 150, totalG: 74.77, paramsM: 67.51, backboneG: 48.55,
                      headG: 26.22, operatorsG: FlopReference.operators(64.94, 6.09, 3.33, 0.18, 0.04, 0.09, 0.10), convSplitG: FlopReference.convSplit(3.96, 59.80, 1.17),
                      paperG: 75),
        FlopReference(model: "lrformer-l", height: 512, width: 512, numClasses: 150, totalG: 121.92, paramsM: 110.98, backboneG: 81.83,
                      headG: 40.09, operatorsG: FlopReference.operators(107.05, 9.97, 4.34, 0.25, 0.05, 0.13, 0.13), convSplitG: FlopReference.convSplit(5.72, 99.71, 1.62),
                      paperG: 122),
        FlopReference(model: "lrformer-l", height: 640, width: 640, numClasses: 150, totalG: 181.94, paramsM: 110.98, backboneG: 122.52,
                      headG: 59.42, operatorsG: FlopReference.operators(166.78, 9.97, 4.34, 0.38, 0.07, 0.20, 0.21), convSplitG: FlopReference.convSplit(8.94, 155.33, 2.51),
                      paperG: 183),
        FlopReference(model: "lrformer-xl-backbone", height: 512, width: 512, totalG: 164.73, paramsM: 184.72, backboneG: 164.73),
        FlopReference(model: "lrformer-xl-backbone", height: 640, width: 640, totalG: 247.85, paramsM: 184.72, backboneG: 247.85,
                      operatorsG: FlopReference.operators(229.90, 14.12, 2.76, 0.57, 0.04, 0.20, 0.26), convSplitG: FlopReference.convSplit(15.63, 210.97, 3.30)),
        FlopReference(model: "lrformer-t", height: 1024, width: 2048, numClasses: 19, totalG: 119.09, paramsM: 13.23, backboneG: 67.05,
                      headG: 52.04, paperG: 122),
        FlopReference(model: "lrformer-t", height: 1024, width: 2048, numClasses: 150, totalG: 120.19),
        FlopReference(model: "lrformer-s", height: 1024, width: 2048, numClasses: 19, totalG: 289.96, paramsM: 32.17, backboneG: 179.12,
                      headG: 110.84, paperG: 295),
        FlopReference(model: "lrformer-b", height: 1024, width: 2048, numClasses: 19, totalG: 542.64, paramsM: 67.44, backboneG: 355.47,
                      headG: 187.17, paperG: 555),
        FlopReference(model: "lrformer-l", height: 1024, width: 2048, numClasses: 19, totalG: 890.04, paramsM: 110.90, backboneG: 601.43,
                      headG: 288.61, paperG: 908),
    ]

    static let lrformerTimings: [OfficialTiming] = [
        // cpu-baselines.md: "peak RSS (build + run)" with the increase over the ~590 MB post-import process.
        OfficialTiming.inference("lrformer-t", .float32, "eager fp32", 381, 345, 493, peak: 926, baseline: nil, increase: 337, .cpuBaselines),
        OfficialTiming.inference("lrformer-s", .float32, "eager fp32", 968, 920, 1024, peak: 1056, baseline: nil, increase: 467, .cpuBaselines),
        OfficialTiming(model: "lrformer-t", height: 512, width: 512, batch: 2, train: true, dtype: .float32,
                         configuration: "eager fp32, AdamW step", medianMs: 4270, minMs: 4060, maxMs: 5170, peakRSSMiB: 3866,
                         // Only the total is given; the source puts the post-import process at ~590 MB (926 - 337 = 589).
                         peakIncreaseMiB: 3866 - 590, source: .cpuBaselines),
        // cpu-anchors.md: VmHWM reset after loading, post-import baseline in brackets.
        OfficialTiming.inference("lrformer-t", .float32, "eager fp32 (NCHW)", 336, 281, 608, peak: 1007, baseline: 484, .cpuAnchors),
        OfficialTiming.inference("lrformer-t", .bfloat16, "eager, autocast bf16", 254, 205, 507, peak: 831, baseline: 485, .cpuAnchors),
        OfficialTiming.inference("lrformer-s", .float32, "eager fp32 (NCHW)", 713, 613, 1117, peak: 1193, baseline: 485, .cpuAnchors),
        OfficialTiming.inference("lrformer-s", .bfloat16, "eager, autocast bf16", 501, 407, 546, peak: 1003, baseline: 485, .cpuAnchors),
    ]
}
