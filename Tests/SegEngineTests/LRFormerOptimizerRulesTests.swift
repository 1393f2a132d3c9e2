import Foundation
import SegModels
import Testing
import Torch
@testable import SegEngine

/// The official rule order (mmengine custom_keys: longest key first, first substring match wins) applied to
/// LRFormer-T's real parameter names: `head` (lr x10) is tried before `norm` (no decay).
@Suite("LRFormer-T optimiser parameter rules")
struct LRFormerOptimizerRulesTests {
    @Test("head gets lr x10 and keeps decay; backbone norms lose decay; BatchNorm and layer scale keep it")
    func rules() throws {
        let config = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        let rules = config.paramGroupRules
        let model = try ModelRegistry.segmentation("lrformer-t", numClasses: 150)
        let names = model.namedParameters().map { $0.0 }

        for name in names {
            let r = rules.rule(for: name)
            if name.hasPrefix("decode_head.") {
                #expect(r.lrMult == 10, "\(name)")
                #expect(r.decayMult == 1, "\(name): `head` is matched before `norm`")
            } else {
                #expect(r.lrMult == 1, "\(name)")
                #expect(r.decayMult == (name.contains("norm") ? 0 : 1), "\(name)")
            }
        }
        // The documented consequences, by name.
        #expect(rules.rule(for: "decode_head.fuse_block1.norm1.weight") == ParamRule(lrMult: 10, decayMult: 1))
        #expect(rules.rule(for: "backbone.block1.0.norm1.weight") == ParamRule(lrMult: 1, decayMult: 0))
        #expect(rules.rule(for: "backbone.block3.0.attn.norm.bias") == ParamRule(lrMult: 1, decayMult: 0))
        #expect(rules.rule(for: "backbone.patch_embed1.conv1.1.weight") == ParamRule(lrMult: 1, decayMult: 1))
        #expect(rules.rule(for: "backbone.block3.0.layer_scale_1") == ParamRule(lrMult: 1, decayMult: 1))

        // And the optimiser built from them: per-group lr and weight decay.
        let groups = ParamGroup.groups(from: model.namedParameters(), lr: 6e-5, weightDecay: 0.01, rules: rules)
        let byName = Dictionary(uniqueKeysWithValues: groups.flatMap { g in g.names.map { ($0, g) } })
        #expect(byName.count == names.count)
        #expect(abs(byName["decode_head.conv_seg.weight"]!.lr - 6e-4) < 1e-12)
        #expect(byName["backbone.patch_embed2.norm.weight"]!.weightDecay == 0)
        #expect(byName["backbone.block1.0.attn.q.0.weight"]!.weightDecay == 0.01)
        let noDecay = names.filter { byName[$0]!.weightDecay == 0 }
        #expect(noDecay.allSatisfy { $0.hasPrefix("backbone.") && $0.contains("norm") })
        #expect(noDecay.count == names.filter { $0.hasPrefix("backbone.") && $0.contains("norm") }.count)
    }
}
