import Foundation
import Testing
import Torch
@testable import SegModels

@Suite("LRFormer+ family: structure, registry and recipe")
struct LRFormerPlusFamilyTests {
    @Test("lrformer-t-plus equals the official manifest: 639 entries in order, 31,016,895 parameters")
    func manifest() throws {
        let manifest = try Manifest(Fixtures.resource("lrformer-plus/manifest-t-plus.json"))
        let model = try ModelRegistry.segmentation("lrformer-t-plus")
        let ours = model.stateDict().map { ManifestEntry(key: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.description) }
        #expect(ours.count == 639 && manifest.entries.count == 639)
        for (a, b) in zip(ours, manifest.entries) where a != b {
            Issue.record("first difference: \(a) vs \(b)")
            break
        }
        #expect(model.parameterCount == 31_016_895)
        let backbone = model.namedParameters().filter { $0.0.hasPrefix("backbone.") }.reduce(0) { $0 + $1.1.count }
        #expect(backbone == 11_269_992)
        #expect(model.numClasses == 150 && model.classifierExtraRows == 1)
    }

    @Test("every -plus variant is registered, builds with 150 classes and runs a forward pass")
    func registry() throws {
        let family = try ModelRegistry.family(of: "lrformer-t-plus")
        #expect(family.name == "lrformer-plus")
        #expect(family.variants.map(\.name) == ["lrformer-t-plus", "lrformer-s-plus", "lrformer-b-plus", "lrformer-l-plus", "lrformer-plus-tiny"])
        for v in family.variants where v.kind == .segmentation {
            #expect(v.defaultClasses == 150)
            #expect(family.recipe(.ade20k, v.name).source.contains("lrformer-"))
        }
        // The README's parameter counts: S+ 48M, B+ 80M, L+ 119M.
        for (name, millions) in [("lrformer-s-plus", 48.0), ("lrformer-b-plus", 80.0), ("lrformer-l-plus", 119.0)] {
            let m = try ModelRegistry.segmentation(name)
            #expect(abs(Double(m.parameterCount) / 1e6 - millions) < 1, "\(name): \(m.parameterCount)")
        }
        let tiny = try ModelRegistry.segmentation("lrformer-plus-tiny").eval()
        let x = Tensor.randn([1, 3, 64, 96])
        #expect(Torch.inferenceMode { tiny.logits(x) }.shape == [1, 5, 16, 24])
        #expect(Torch.inferenceMode { tiny.predict(x) }.shape == [1, 64, 96])
        // Odd sizes run too (the stride-32 level is 2x2 here).
        #expect(Torch.inferenceMode { tiny.logits(Tensor.randn([2, 3, 45, 61])) }.shape == [2, 5, 12, 16])
    }

    @Test("recipe: AdamW 1e-4 / 0.05, poly 0.9 without warm-up, clip 0.01 (T+) and 0.1 (S+, B+, L+)")
    func recipe() throws {
        let family = ModelFamily.lrformerPlus
        let t = family.recipe(.ade20k, "lrformer-t-plus").value
        #expect(t.optimizer == .adamw && t.lr == 1e-4 && t.weightDecay == 0.05 && t.eps == 1e-8 && t.betas == [0.9, 0.999])
        #expect(t.policy == .poly && t.power == 0.9 && t.warmupIters == 0 && t.minLR == 0)
        #expect(t.gradClipMaxNorm == 0.01 && t.iterations == 160_000 && t.batchSize == 16 && t.cropSize == .square(512))
        for v in ["lrformer-s-plus", "lrformer-b-plus", "lrformer-l-plus"] {
            let r = family.recipe(.ade20k, v).value
            #expect(r.gradClipMaxNorm == 0.1 && r.batchSize == 32)
        }
        #expect(family.recipe(.ade20k, "lrformer-l-plus").value.cropSize == .square(640))
        #expect(family.testProtocol(.ade20k, "lrformer-l-plus").value.scale == ResizeScale(longSide: 2560, shortSide: 640))
        #expect(family.testProtocol(.ade20k, "lrformer-t-plus").value.sizeDivisor == nil)
    }

    /// mmengine's `DefaultOptimWrapperConstructor.add_params`, written out: the first (longest) custom key contained
    /// in the name wins; otherwise `norm_decay_mult` applies to the parameters of norm layers (by module type).
    static func mmengineRule(_ model: Module, customKeys: [String: ParamRule], normDecayMult: Double) -> [String: ParamRule] {
        let keys = customKeys.keys.sorted().sorted { $0.count > $1.count }
        var out: [String: ParamRule] = [:]
        for (path, module) in model.namedModules() {
            let isNorm = module is LayerNorm || module is GroupNorm || module is BatchNorm2d
            for (name, _) in module.namedParameters() where !name.contains(".") {
                let full = path.isEmpty ? name : "\(path).\(name)"
                if let key = keys.first(where: { full.contains($0) }) {
                    out[full] = customKeys[key]!
                } else {
                    out[full] = isNorm ? ParamRule(lrMult: 1, decayMult: normDecayMult) : .identity
                }
            }
        }
        return out
    }

    @Test("the family's name rules give every parameter the multipliers mmengine gives it", arguments: ["lrformer-t-plus", "lrformer-plus-tiny"])
    func paramRules(_ variant: String) throws {
        let model = try ModelRegistry.segmentation(variant)
        let depths = variant == "lrformer-t-plus" ? [2, 2, 6, 3] : [1, 1, 2, 1]
        // The config's custom_keys, as written in lrformer-t-plus-160k_ade20k-512x512.py.
        let backboneNorm = ParamRule(lrMult: 0.1, decayMult: 0), embed = ParamRule(lrMult: 1, decayMult: 0)
        var official: [String: ParamRule] = ["backbone": ParamRule(lrMult: 0.1, decayMult: 1), "backbone.patch_embed.norm": backboneNorm,
                                             "backbone.norm": backboneNorm, "query_embed": embed, "query_feat": embed, "level_embed": embed]
        for (s, n) in depths.enumerated() {
            for i in 0..<n {
                official["backbone.block\(s + 1).\(i).norm"] = backboneNorm
                official["backbone.block\(s + 1).\(i).attn.norm"] = backboneNorm
            }
            official["backbone.patch_embed\(s + 1).norm"] = backboneNorm
        }
        let expected = Self.mmengineRule(model, customKeys: official, normDecayMult: 0)
        let rules = ParamGroupRules(customKeys: ModelFamily.lrformerPlus.recipe(.ade20k, variant).value.paramRules)
        #expect(expected.count == model.namedParameters().count)
        var decayFree = 0
        for (name, _) in model.namedParameters() {
            #expect(rules.rule(for: name) == expected[name], "\(name): \(rules.rule(for: name)) vs mmengine \(expected[name]!)")
            if expected[name]!.decayMult == 0 { decayFree += 1 }
        }
        #expect(decayFree > 0)
        // Spot checks: the stem's BatchNorm matches `backbone` (decay kept); the head's GroupNorm has none.
        #expect(rules.rule(for: "backbone.patch_embed1.conv1.1.weight") == ParamRule(lrMult: 0.1, decayMult: 1))
        #expect(rules.rule(for: "decode_head.pixel_decoder.input_convs.0.gn.weight") == ParamRule(lrMult: 1, decayMult: 0))
        #expect(rules.rule(for: "decode_head.pixel_decoder.level_encoding.weight") == .identity)
    }

    @Test("a bfloat16 model runs: sampling in float32 and back, the loss in float32")
    func bfloat16() throws {
        let model = try ModelRegistry.segmentation("lrformer-plus-tiny")
        model.to(device: .cpu, dtype: .bfloat16).eval()
        let x = Tensor.randn([1, 3, 64, 64]).to(.bfloat16)
        let scores = Torch.inferenceMode { model.logits(x) }
        #expect(scores.dtype == .bfloat16 && scores.shape == [1, 5, 16, 16])
        let labels = Tensor((0..<(64 * 64)).map { Int64($0 % 64 / 16) }, shape: [1, 64, 64])
        var config = Mask2FormerLossConfig.official
        config.numPoints = 256
        let value = Mask2FormerLoss(config: config)(model.trainingOutputs(x).maskPredictions, labels: labels)
        #expect(value.total.dtype == .float32 && value.total.item().isFinite)
    }
}
