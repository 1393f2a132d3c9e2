import Foundation
import Torch
import TorchIO

// The ImageNet ViT weights SegViT fine-tunes from, in the two layouts they are published in, mapped to SegViT's
// backbone keys: timm's (`blocks.0.attn.qkv.weight`, the JAX releases as timm converts them: SETR's ViT-B) and
// mmseg's converted backbone files (`layers.0.attn.attn.in_proj_weight`, the `vit_*_p16_384_20220308` files the
// configs name). The position embedding is resized to the model's grid, as mmseg's ViT does at load time.

extension CheckpointKeyMap {
    /// timm `VisionTransformer` keys -> `backbone.*`, as mmseg's tools/model_converters/vit2mmseg.py renames them.
    /// The classifier (`head`, `pre_logits`, `fc_norm`) and the final `norm` (SegViT has `final_norm=False`) are dropped.
    static let timmViT = CheckpointKeyMap(
        name: "timm ViT (blocks.N.attn.qkv)",
        matches: { keys in keys.contains("patch_embed.proj.weight") && keys.contains("blocks.0.attn.qkv.weight") },
        convert: { try ViTCheckpointConversion.convert($0, layout: "timm ViT", rename: ViTCheckpointConversion.timmKey) },
        fitShapes: { try ViTCheckpointConversion.fitPositionEmbedding($0, target: $1) })

    /// mmseg's converted ViT backbone (`patch_embed.projection`, `layers.N.attn.attn`, final norm `ln1`) -> `backbone.*`.
    static let mmsegViTBackbone = CheckpointKeyMap(
        name: "mmseg ViT backbone (layers.N.attn.attn)",
        matches: { keys in keys.contains("patch_embed.projection.weight") && keys.contains("layers.0.attn.attn.in_proj_weight") },
        convert: { try ViTCheckpointConversion.convert($0, layout: "mmseg ViT backbone", rename: ViTCheckpointConversion.mmsegKey) },
        fitShapes: { try ViTCheckpointConversion.fitPositionEmbedding($0, target: $1) })
}

enum ViTCheckpointConversion {
    /// What happens to one foreign key.
    enum Fate: Equatable {
        case rename(String)
        case drop
        case unknown
    }

    static func convert(_ dict: HostTensorDict, layout: String, rename: (String) -> Fate) throws -> HostTensorDict {
        var out = HostTensorDict()
        var unknown: [String] = []
        for (key, value) in dict.items {
            switch rename(key) {
            case .rename(let k): out[k] = value
            case .drop: continue
            case .unknown: unknown.append(key)
            }
        }
        guard unknown.isEmpty else {
            throw ModelError("\(layout) checkpoint has keys a SegViT backbone does not know (\(unknown.count)): "
                + unknown.prefix(8).joined(separator: ", ") + (unknown.count > 8 ? ", ..." : ""))
        }
        return out
    }

    /// timm -> mmseg ViT (vit2mmseg.py's table).
    static func timmKey(_ key: String) -> Fate {
        if key == "cls_token" || key == "pos_embed" { return .rename("backbone." + key) }
        if let rest = key.dropPrefix("patch_embed.proj.") { return .rename("backbone.patch_embed.projection." + rest) }
        for dropped in ["head.", "head_drop.", "pre_logits.", "fc_norm.", "norm."] where key.hasPrefix(dropped) { return .drop }
        guard let rest = key.dropPrefix("blocks."), let dot = rest.firstIndex(of: "."), Int(rest[..<dot]) != nil else { return .unknown }
        let layer = rest[..<dot], name = String(rest[rest.index(after: dot)...])
        let table = [("norm1.", "ln1."), ("norm2.", "ln2."), ("attn.qkv.weight", "attn.attn.in_proj_weight"),
                     ("attn.qkv.bias", "attn.attn.in_proj_bias"), ("attn.proj.", "attn.attn.out_proj."),
                     ("mlp.fc1.", "ffn.layers.0.0."), ("mlp.fc2.", "ffn.layers.1.")]
        for (from, to) in table {
            if let tail = name.dropPrefix(from) { return .rename("backbone.layers.\(layer).\(to)\(tail)") }
        }
        return .unknown
    }

    /// mmseg ViT backbone file -> `backbone.*`; its final norm `ln1` is dropped (SegViT builds no final norm).
    static func mmsegKey(_ key: String) -> Fate {
        if key.hasPrefix("ln1.") { return .drop }
        if ["cls_token", "pos_embed"].contains(key) || key.hasPrefix("patch_embed.") || key.hasPrefix("layers.") {
            return .rename("backbone." + key)
        }
        return .unknown
    }

    /// `backbone.pos_embed` (1, 1+S², D) resized bicubically to the model's (1, 1+G², D), the cls entry kept (mmseg's
    /// `resize_pos_embed` with pos_size = √(N-1), as its ViT `init_weights` does).
    static func fitPositionEmbedding(_ dict: HostTensorDict, target: [String: [Int]]) throws -> HostTensorDict {
        let key = "backbone.pos_embed"
        guard let pos = dict[key], let want = target[key], pos.shape != want else { return dict }
        func side(_ shape: [Int]) -> Int? {
            guard shape.count == 3, shape[0] == 1, shape[1] > 1 else { return nil }
            let s = Int(Double(shape[1] - 1).squareRoot().rounded())
            return s * s == shape[1] - 1 ? s : nil
        }
        guard let from = side(pos.shape), let to = side(want), pos.shape[2] == want[2] else {
            throw ModelError("the checkpoint's position embedding \(pos.shape) cannot be resized to the model's \(want) "
                + "(it needs 1 x (1 + n²) x width with the same width)")
        }
        let source = try Tensor(host: pos)
        let resized = SegViTBackbone.resizePositionEmbedding(source.to(.float32), from: (from, from), to: (to, to))
        var out = dict
        out[key] = try resized.to(source.dtype).contiguous().host()
        return out
    }
}

extension String {
    /// The rest of the string after `prefix`, nil when it does not start with it.
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
