import Testing
@testable import Torch

@Suite("ParamGroupRules")
struct ParamGroupRulesTests {
    /// The LRFormer / SegFormer-style recipe keys.
    let recipe = ParamGroupRules(customKeys: [
        "head": ParamRule(lrMult: 10),
        "norm": ParamRule(decayMult: 0),
    ])

    @Test func keyOrderIsLongestFirstThenAlphabetical() {
        let rules = ParamGroupRules(customKeys: [
            "norm": ParamRule(decayMult: 0), "head": ParamRule(lrMult: 10),
            "pos_block": ParamRule(decayMult: 0), "ln": ParamRule(decayMult: 0), "bn": ParamRule(),
        ])
        #expect(rules.orderedKeys == ["pos_block", "head", "norm", "bn", "ln"])
    }

    @Test("decoder norms match `head` first: lr x10 and weight decay kept")
    func decoderNormKeepsDecay() {
        let m = recipe.match("decode_head.fuse_block1.norm1.weight")
        #expect(m.key == "head")
        #expect(m.rule == ParamRule(lrMult: 10, decayMult: 1))
    }

    @Test func backboneLayerNormHasNoDecay() {
        let m = recipe.match("backbone.block1.0.norm1.weight")
        #expect(m.key == "norm")
        #expect(m.rule == ParamRule(lrMult: 1, decayMult: 0))
        #expect(recipe.rule(for: "backbone.patch_embed2.norm.bias") == ParamRule(lrMult: 1, decayMult: 0))
    }

    @Test("stem BatchNorm named conv1.1 matches nothing: decay kept")
    func stemBatchNormKeepsDecay() {
        let m = recipe.match("backbone.patch_embed1.conv1.1.weight")
        #expect(m.key == nil)
        #expect(m.rule == ParamRule.identity)
        #expect(recipe.rule(for: "decode_head.squeeze1.bn.weight") == ParamRule(lrMult: 10, decayMult: 1))
    }

    @Test func noMatchIsIdentity() {
        #expect(recipe.rules(for: ["backbone.block3.2.attn.q.0.weight", "backbone.d_convs1.0.bias"]) == [.identity, .identity])
    }

    @Test("a longer key wins over a shorter one even when both match")
    func longerKeyWins() {
        let rules = ParamGroupRules(customKeys: ["block": ParamRule(lrMult: 2), "pos_block": ParamRule(decayMult: 0)])
        #expect(rules.match("backbone.block1.0.attn.pos_block.proj.weight").key == "pos_block")
        #expect(rules.match("backbone.block1.0.attn.proj.weight").key == "block")
    }

    @Test("equal lengths: alphabetical order decides")
    func alphabeticalTieBreak() {
        let rules = ParamGroupRules(customKeys: ["norm": ParamRule(decayMult: 0), "head": ParamRule(lrMult: 10)])
        // Both match; "head" < "norm".
        #expect(rules.match("head_norm.weight").rule == ParamRule(lrMult: 10, decayMult: 1))
    }

    @Test("top-level parameters are matched as '.name', as mmengine's f'{prefix}.{name}'")
    func topLevelNameHasLeadingDot() {
        let rules = ParamGroupRules(customKeys: [".pos_embed": ParamRule(decayMult: 0)])
        #expect(rules.match("pos_embed").key == ".pos_embed")
        #expect(rules.match("backbone.pos_embed").key == ".pos_embed")
        #expect(rules.match("my_pos_embed").key == nil)
    }

    @Test func groupsByMatchedKeyInFirstAppearanceOrder() {
        let names = [
            "backbone.patch_embed1.conv1.0.weight",
            "backbone.block1.0.norm1.weight",
            "decode_head.conv_seg.weight",
            "backbone.block1.0.attn.q.0.weight",
            "decode_head.fuse_block1.norm1.bias",
        ]
        let groups = recipe.groups(for: names)
        #expect(groups.map(\.key) == [nil, "norm", "head"])
        #expect(groups[0].names == ["backbone.patch_embed1.conv1.0.weight", "backbone.block1.0.attn.q.0.weight"])
        #expect(groups[2].names == ["decode_head.conv_seg.weight", "decode_head.fuse_block1.norm1.bias"])
        #expect(groups[2].rule.lrMult == 10)
    }
}
