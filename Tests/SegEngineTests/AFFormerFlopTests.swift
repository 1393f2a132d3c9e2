import Foundation
import Testing
import Torch
import SegModels
@testable import SegEngine

/// One case of shared/reference/afformer/manifest-<variant>.json: `flops[0]` (ADE20K model, 150 classes, 512x512)
/// or `cityscapes_19cls.flops` (19 classes, 1024x2048), counted upstream with mmengine's FlopAnalyzer on
/// `EncoderDecoder.encode_decode`, i.e. including the final bilinear resize of the logits to the input size.
struct AFFormerFlopCase: Sendable, CustomTestStringConvertible {
    var variant: String
    var height: Int
    var width: Int
    var classes: Int
    var params: Int
    /// `total_flops` (with the final resize).
    var total: Int
    /// `by_module_depth3` backbone and decode_head (= our `logits`, without the resize).
    var backbone: Int
    var head: Int
    /// `by_operator`.
    var operators: [String: Int]

    var testDescription: String { "afformer-\(variant) @\(height)x\(width) (\(classes) classes)" }

    /// The final resize as mmengine counts it: 4 per output element.
    var finalResize: Int { 4 * classes * height * width }

    static func ops(conv: Int, bn: Int, ln: Int, linear: Int, einsum: Int, pool: Int, upsample: Int, gn: Int) -> [String: Int] {
        ["conv": conv, "batch_norm": bn, "layer_norm": ln, "linear": linear, "einsum": einsum, "adaptive_avg_pool2d": pool,
         "upsample_bilinear2d": upsample, "group_norm": gn]
    }

    static let all: [AFFormerFlopCase] = [
        AFFormerFlopCase(variant: "tiny", height: 512, width: 512, classes: 150, params: 2_193_354, total: 3_293_572_096,
                         backbone: 2_747_264_000, head: 389_021_696,
                         operators: ops(conv: 1_740_490_752, bn: 26_062_848, ln: 12_902_400, linear: 1_298_399_232, einsum: 40_576_000,
                                        pool: 1_290_240, upsample: 168_607_744, gn: 5_242_880)),
        AFFormerFlopCase(variant: "small", height: 512, width: 512, classes: 150, params: 2_389_154, total: 3_549_702_144,
                         backbone: 3_003_394_048, head: 389_021_696,
                         operators: ops(conv: 1_813_153_792, bn: 26_619_904, ln: 13_557_760, linear: 1_474_560_000, einsum: 46_080_000,
                                        pool: 1_355_776, upsample: 169_132_032, gn: 5_242_880)),
        AFFormerFlopCase(variant: "base", height: 512, width: 512, classes: 150, params: 3_003_954, total: 4_571_736_592,
                         backbone: 4_025_428_496, head: 389_021_696,
                         operators: ops(conv: 1_954_351_104, bn: 28_717_056, ln: 19_783_680, linear: 2_317_615_104, einsum: 72_426_000,
                                        pool: 1_978_368, upsample: 171_622_400, gn: 5_242_880)),
        AFFormerFlopCase(variant: "tiny", height: 1024, width: 2048, classes: 19, params: 2_159_687, total: 24_150_753_472,
                         backbone: 21_978_104_000, head: 2_013_265_920,
                         operators: ops(conv: 12_825_018_368, bn: 208_502_784, ln: 103_219_200, linear: 10_387_193_856,
                                        einsum: 324_600_000, pool: 10_321_920, upsample: 249_954_304, gn: 41_943_040)),
        AFFormerFlopCase(variant: "small", height: 1024, width: 2048, classes: 19, params: 2_355_487, total: 26_199_801_856,
                         backbone: 24_027_152_384, head: 2_013_265_920,
                         operators: ops(conv: 13_406_322_688, bn: 212_959_232, ln: 108_462_080, linear: 11_796_480_000,
                                        einsum: 368_640_000, pool: 10_846_208, upsample: 254_148_608, gn: 41_943_040)),
        AFFormerFlopCase(variant: "base", height: 1024, width: 2048, classes: 19, params: 2_970_287, total: 34_376_089_440,
                         backbone: 32_203_439_968, head: 2_013_265_920,
                         operators: ops(conv: 14_535_901_184, bn: 229_736_448, ln: 158_269_440, linear: 18_540_920_832,
                                        einsum: 579_420_000, pool: 15_826_944, upsample: 274_071_552, gn: 41_943_040)),
    ]
}

/// AFFormer against the manifests' FLOPs (each case is one real forward: seconds at 512, ~10-20 s at 1024x2048 on
/// 2 cores). The only expected difference: fvcore prints numpy's einsum FLOP count with 4 significant digits
/// before halving it, so its einsum figures are rounded (tiny @512: 40,576,000 vs the exact 40,574,976).
@Suite("FLOP counter: AFFormer against the manifests", .serialized)
struct AFFormerFlopTests {
    static func percent(_ ours: Int, _ theirs: Int) -> Double { (Double(ours) / Double(theirs) - 1) * 100 }

    @Test("totals, backbone, head and every operator within 0.5%", arguments: AFFormerFlopCase.all)
    func manifest(_ c: AFFormerFlopCase) throws {
        let model = try ModelRegistry.segmentation("afformer-\(c.variant)", numClasses: c.classes)
        let r = try FlopCounter.count(model: model, input: [1, 3, c.height, c.width])
        let logits = c.backbone + c.head
        print("FLOPs afformer-\(c.variant) \(c.height)x\(c.width): logits \(r.total) vs \(logits) "
            + "(\(String(format: "%+.4f", Self.percent(r.total, logits)))%), with the final resize \(r.total + c.finalResize) vs \(c.total) "
            + "(\(String(format: "%+.4f", Self.percent(r.total + c.finalResize, c.total)))%)")
        #expect(r.outputShapes == [[1, c.classes, (c.height + 7) / 8, (c.width + 7) / 8]])
        #expect(r.parameters == c.params)
        #expect(abs(Self.percent(r.total, logits)) < 0.001, "logits: \(r.total) vs \(logits)")
        #expect(abs(Self.percent(r.total + c.finalResize, c.total)) < 0.001, "with the resize: \(r.total + c.finalResize) vs \(c.total)")
        #expect(abs(Self.percent(r.flops(inScope: "backbone"), c.backbone)) < 0.5, "backbone")
        #expect(r.flops(inScope: "decode_head") == c.head, "head: \(r.flops(inScope: "decode_head")) vs \(c.head)")
        for (op, theirs) in c.operators {
            // The manifest's upsampling includes the final resize.
            let ours = r.flops(of: op) + (op == "upsample_bilinear2d" ? c.finalResize : 0)
            #expect(abs(Self.percent(ours, theirs)) < 0.5, "\(op): \(ours) vs \(theirs)")
            if op != "einsum" { #expect(ours == theirs, "\(op) is exact: \(ours) vs \(theirs)") }
        }
        // `swiftseg flops` compares with the same figures (FlopReference, rounded to 1 MFLOP).
        let reference = try #require(r.reference)
        #expect(abs(reference.percentDifference(r.total)) < 0.05)
        // Nothing counted outside the manifest's operators (Hardswish, GELU, softmax, adds are not counted).
        #expect(Set(r.byOperator.map(\.op)).isSubset(of: Set(c.operators.keys)))
    }
}
