// Reference FLOPs measured with mmengine's FlopAnalyzer on the official code (LRFormer, AFFormer) and Hugging Face
// SegFormer (transformers 4.57.6), copied from /work/shared/reference/flops.md and (AFFormer) the backbone +
// decode_head entries of /work/shared/reference/afformer/manifest-*.json. Batch 1, eval mode, logits at the
// model's stride. "G" = 1e9.

public struct FlopReference: Sendable, Codable, Equatable {
    /// Model zoo name; "lrformer-xl-backbone" is the bare XL encoder.
    public var model: String
    public var height: Int
    public var width: Int
    public var numClasses: Int?
    public var totalG: Double
    public var paramsM: Double?
    public var backboneG: Double?
    public var headG: Double?
    /// Table 12's "Att.": the encoder's q·kᵀ + attn·v (+ LRSA's upsampling).
    public var attentionG: Double?
    /// mmengine `by_operator()` values (G), where flops.md lists them.
    public var operatorsG: [String: Double]?
    /// Dense kxk / 1x1 / depthwise conv split (G), where listed.
    public var convSplitG: [String: Double]?
    /// The paper's figure, for information.
    public var paperG: Double?

    /// Our value's difference from the reference, in percent.
    public func percentDifference(_ flops: Int) -> Double { (Double(flops) / 1e9 / totalG - 1) * 100 }
}

extension FlopReference {
    public static func find(model: String, height: Int, width: Int, numClasses: Int?) -> FlopReference? {
        table.first { $0.model == model && $0.height == height && $0.width == width && (numClasses == nil || $0.numClasses == numClasses) }
    }

    private static func ops(_ conv: Double, _ linear: Double, _ matmul: Double, _ ln: Double, _ bn: Double, _ up: Double,
                            _ pool: Double) -> [String: Double] {
        ["conv": conv, "linear": linear, "matmul": matmul, "layer_norm": ln, "batch_norm": bn,
         "upsample_bilinear2d": up, "adaptive_avg_pool2d": pool]
    }

    private static func split(_ dense: Double, _ pointwise: Double, _ depthwise: Double) -> [String: Double] {
        [ConvKind.dense.rawValue: dense, ConvKind.pointwise.rawValue: pointwise, ConvKind.depthwise.rawValue: depthwise]
    }

    public static let table: [FlopReference] = [
        FlopReference(model: "lrformer-t", height: 512, width: 512, numClasses: 150, totalG: 16.69, paramsM: 13.26, backboneG: 9.16,
                      headG: 7.53, operatorsG: ops(14.02, 1.18, 1.34, 0.05, 0.02, 0.04, 0.03), convSplitG: split(1.49, 12.17, 0.37),
                      paperG: 17),
        FlopReference(model: "lrformer-s", height: 512, width: 512, numClasses: 150, totalG: 39.98, paramsM: 32.22, backboneG: 24.30,
                      headG: 15.68, attentionG: 0.758, operatorsG: ops(34.59, 2.91, 2.21, 0.11, 0.03, 0.06, 0.06),
                      convSplitG: split(2.62, 31.24, 0.73), paperG: 40),
        FlopReference(model: "lrformer-s", height: 1024, width: 1024, numClasses: 150, totalG: 143.59, attentionG: 0.867, paperG: 145),
        FlopReference(model: "lrformer-s", height: 1536, width: 1536, numClasses: 150, totalG: 316.27, attentionG: 1.048, paperG: 319),
        FlopReference(model: "lrformer-b", height: 512, width: 512, numClasses: 150, totalG: 74.77, paramsM: 67.51, backboneG: 48.55,
                      headG: 26.22, operatorsG: ops(64.94, 6.09, 3.33, 0.18, 0.04, 0.09, 0.10), convSplitG: split(3.96, 59.80, 1.17),
                      paperG: 75),
        FlopReference(model: "lrformer-l", height: 512, width: 512, numClasses: 150, totalG: 121.92, paramsM: 110.98, backboneG: 81.83,
                      headG: 40.09, operatorsG: ops(107.05, 9.97, 4.34, 0.25, 0.05, 0.13, 0.13), convSplitG: split(5.72, 99.71, 1.62),
                      paperG: 122),
        FlopReference(model: "lrformer-l", height: 640, width: 640, numClasses: 150, totalG: 181.94, paramsM: 110.98, backboneG: 122.52,
                      headG: 59.42, operatorsG: ops(166.78, 9.97, 4.34, 0.38, 0.07, 0.20, 0.21), convSplitG: split(8.94, 155.33, 2.51),
                      paperG: 183),
        FlopReference(model: "lrformer-xl-backbone", height: 512, width: 512, totalG: 164.73, paramsM: 184.72, backboneG: 164.73),
        FlopReference(model: "lrformer-xl-backbone", height: 640, width: 640, totalG: 247.85, paramsM: 184.72, backboneG: 247.85,
                      operatorsG: ops(229.90, 14.12, 2.76, 0.57, 0.04, 0.20, 0.26), convSplitG: split(15.63, 210.97, 3.30)),
        FlopReference(model: "lrformer-t", height: 1024, width: 2048, numClasses: 19, totalG: 119.09, paramsM: 13.23, backboneG: 67.05,
                      headG: 52.04, paperG: 122),
        FlopReference(model: "lrformer-t", height: 1024, width: 2048, numClasses: 150, totalG: 120.19),
        FlopReference(model: "lrformer-s", height: 1024, width: 2048, numClasses: 19, totalG: 289.96, paramsM: 32.17, backboneG: 179.12,
                      headG: 110.84, paperG: 295),
        FlopReference(model: "lrformer-b", height: 1024, width: 2048, numClasses: 19, totalG: 542.64, paramsM: 67.44, backboneG: 355.47,
                      headG: 187.17, paperG: 555),
        FlopReference(model: "lrformer-l", height: 1024, width: 2048, numClasses: 19, totalG: 890.04, paramsM: 110.90, backboneG: 601.43,
                      headG: 288.61, paperG: 908),
        FlopReference(model: "segformer-b0", height: 512, width: 512, numClasses: 150, totalG: 8.49, paramsM: 3.75, backboneG: 3.23,
                      headG: 5.26, operatorsG: ops(5.46, 1.89, 1.04, 0.03, 0.01, 0.07, 0.00), convSplitG: split(0.46, 4.92, 0.07),
                      paperG: 8.4),
        FlopReference(model: "segformer-b1", height: 512, width: 512, numClasses: 150, totalG: 16.02, paramsM: 13.72, backboneG: 10.50,
                      headG: 5.52, paperG: 15.9),
        FlopReference(model: "segformer-b2", height: 512, width: 512, numClasses: 150, totalG: 62.66, paramsM: 27.46, backboneG: 20.34,
                      headG: 42.33, attentionG: 3.892, operatorsG: ops(43.13, 15.32, 3.89, 0.10, 0.03, 0.20, 0.00),
                      convSplitG: split(2.31, 40.54, 0.27), paperG: 62.4),
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
        // AFFormer: the paper's figures include the final resize to the input size (4.57 G for base @512 with it).
        FlopReference(model: "afformer-tiny", height: 512, width: 512, numClasses: 150, totalG: 3.136, paramsM: 2.193, backboneG: 2.747,
                      headG: 0.389, paperG: 2.8),
        FlopReference(model: "afformer-small", height: 512, width: 512, numClasses: 150, totalG: 3.392, paramsM: 2.389, backboneG: 3.003,
                      headG: 0.389, paperG: 3.6),
        FlopReference(model: "afformer-base", height: 512, width: 512, numClasses: 150, totalG: 4.414, paramsM: 3.004, backboneG: 4.025,
                      headG: 0.389, paperG: 4.6),
        FlopReference(model: "afformer-tiny", height: 1024, width: 2048, numClasses: 19, totalG: 23.991, paramsM: 2.160, backboneG: 21.978,
                      headG: 2.013, paperG: 23.0),
        FlopReference(model: "afformer-small", height: 1024, width: 2048, numClasses: 19, totalG: 26.040, paramsM: 2.355, backboneG: 24.027,
                      headG: 2.013, paperG: 26.2),
        FlopReference(model: "afformer-base", height: 1024, width: 2048, numClasses: 19, totalG: 34.217, paramsM: 2.970, backboneG: 32.203,
                      headG: 2.013, paperG: 34.4),
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
