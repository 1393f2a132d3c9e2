import Foundation
import Torch

// The plain ViT of SegViT: mmseg 0.24's `VisionTransformer` (backbones/vit.py) with mmcv 1.4's layer names, and
// SegViT's `vit_shrink` (backbone/vit_shrink.py), the same network with query-based down-sampling at one layer.

/// Receives named intermediate tensors (the fixtures' names) during a forward pass.
typealias SegViTTap = (String, Tensor) -> Void

/// mmseg's `PatchEmbed` as its ViT builds it: zero padding at the bottom and right up to a multiple of the patch
/// ("corner" adaptive padding), a patch x patch conv of stride patch (`projection`), no norm.
final class ViTPatchEmbed: Module {
    let patch: Int
    let projection: Conv2d

    init(inChannels: Int = 3, dim: Int, patch: Int) {
        self.patch = patch
        projection = Conv2d(inChannels, dim, kernel: patch, stride: patch)
        super.init()
        register(modules: ("projection", projection))
    }

    /// B,3,H,W -> tokens B,hw,D and the grid h x w (h = ceil(H / patch)).
    func embed(_ x: Tensor) -> (tokens: Tensor, h: Int, w: Int) {
        let padH = (patch - x.size(2) % patch) % patch, padW = (patch - x.size(3) % patch) % patch
        let y = projection(padH + padW > 0 ? x.pad([0, padW, 0, padH]) : x)
        return (y.flatten(start: 2).transpose(1, 2), y.size(2), y.size(3))  // B,D,h,w -> B,hw,D
    }
}

/// mmseg's ViT `TransformerEncoderLayer`, pre-norm: `x += attn(ln1 x)`, `x += drop_path(ffn(ln2 x))`. The attention
/// is mmcv's `MultiheadAttention` wrapper around torch's (keys `attn.attn.in_proj_weight`, ...); in this mmseg
/// version stochastic depth acts on the FFN branch only (the attention's `dropout_layer` is a Dropout(0)).
final class ViTEncoderLayer: Module {
    let ln1: LayerNorm
    let attention: MultiheadAttention
    let ln2: LayerNorm
    let ffn: MMCVFeedForward

    init(dim: Int, heads: Int, hidden: Int, dropPath: Double) {
        ln1 = LayerNorm(dim, eps: 1e-6)
        attention = MultiheadAttention(embedDim: dim, numHeads: heads)
        ln2 = LayerNorm(dim, eps: 1e-6)
        ffn = MMCVFeedForward(dim: dim, hidden: hidden, activation: GELU(), dropPath: dropPath)
        super.init()
        register(modules: ("ln1", ln1), ("attn", NameScope(("attn", attention))), ("ln2", ln2), ("ffn", ffn))
    }

    /// tokens B,N,D -> B,N,D.
    override func callAsFunction(_ x: Tensor) -> Tensor {
        let n = ln1(x)
        let y = x + attention(n, n, n)
        return ffn(ln2(y), identity: y)
    }

    /// The QD layer of `vit_shrink` (`ShrinkLayer`): the down-sampled tokens B,N/4,D attend to all tokens B,N,D and
    /// are the residual -> B,N/4,D.
    func shrink(_ down: Tensor, _ x: Tensor) -> Tensor {
        let n = ln1(x)
        let y = down + attention(ln1(down), n, n)
        return ffn(ln2(y), identity: y)
    }
}

/// mmseg 0.24 `VisionTransformer` as SegViT configures it (`with_cls_token=False`, `final_norm=False`, LN eps 1e-6,
/// bicubic position-embedding resize), optionally with SegViT's QD layer (`vit_shrink`).
///
/// Forward: patchify; prepend the cls token; add the position embedding (its grid part resized bicubically when
/// the token grid is not imageSize/patch square); drop the cls token again, so `cls_token` and `pos_embed[:, 0]`
/// never affect the output (they get zero gradients, as upstream); run the layers.
public final class SegViTBackbone: Module {
    public let config: SegViTConfig
    public let clsToken: Tensor
    public let posEmbed: Tensor
    let patchEmbed: ViTPatchEmbed
    let layers: [ViTEncoderLayer]

    public init(_ config: SegViTConfig) {
        config.check()
        self.config = config
        let d = config.embedDims
        clsToken = Tensor.zeros([1, 1, d])
        posEmbed = Tensor.zeros([1, 1 + config.grid * config.grid, d])
        patchEmbed = ViTPatchEmbed(dim: d, patch: config.patchSize)
        let rates = stochasticDepthRates(config.dropPathRate, depths: [config.depth])[0]
        layers = rates.map { ViTEncoderLayer(dim: d, heads: config.numHeads, hidden: config.mlpRatio * d, dropPath: $0) }
        super.init()
        register(parameters: ("cls_token", clsToken), ("pos_embed", posEmbed))
        register(modules: ("patch_embed", patchEmbed), ("layers", ModuleList(layers)))
        initializeViTWeights()
    }

    /// B,3,H,W -> the outputs of `outIndices`: B,D,h,w maps for the plain ViT, B,N,D tokens for the Shrunk one
    /// (vit_shrink does not reshape, and its outputs after the QD layer have a quarter of the tokens).
    func features(_ x: Tensor, tap: SegViTTap? = nil) -> [Tensor] {
        let (patches, h, w) = patchEmbed.embed(x)
        tap?("backbone.patch_embed", patches)
        let b = x.size(0), d = config.embedDims
        let withCls = Tensor.cat([clsToken.expand([b, 1, d]), patches], dim: 1)
        var t = (withCls + positionEmbedding(h: h, w: w)).slice(1, start: 1, end: 1 + h * w)  // with_cls_token=False
        var outputs: [Tensor] = []
        for (i, layer) in layers.enumerated() {
            t = i == config.shrinkIndex ? layer.shrink(Self.evenTokens(t), t) : layer(t)
            tap?("backbone.layers.\(i)", t)
            guard config.outIndices.contains(i) else { continue }
            outputs.append(config.shrinkIndex == nil ? t.reshape([b, h, w, d]).permute(0, 3, 1, 2) : t)  // B,hw,D -> B,D,h,w
        }
        return outputs
    }

    /// `pos_embed` for an h x w token grid: as stored when the token count matches (mmseg compares counts), else
    /// the grid part resized bicubically (align_corners false) with the cls entry kept (`resize_pos_embed`).
    func positionEmbedding(h: Int, w: Int) -> Tensor {
        guard 1 + h * w != posEmbed.size(1) else { return posEmbed }
        return Self.resizePositionEmbedding(posEmbed, from: (config.grid, config.grid), to: (h, w))
    }

    /// mmseg's `resize_pos_embed`: pos 1,1+H0·W0,D -> 1,1+h·w,D.
    static func resizePositionEmbedding(_ pos: Tensor, from: (Int, Int), to: (Int, Int)) -> Tensor {
        let d = pos.size(2)
        let cls = pos.slice(1, start: 0, end: 1)
        let grid = pos.slice(1, start: pos.size(1) - from.0 * from.1, end: pos.size(1))
            .reshape([1, from.0, from.1, d]).permute(0, 3, 1, 2)  // 1,H0W0,D -> 1,D,H0,W0
        let resized = F.interpolate(grid, size: to, mode: .bicubic(alignCorners: false))
        return Tensor.cat([cls, resized.flatten(start: 2).transpose(1, 2)], dim: 1)  // 1,D,h,w -> 1,hw,D
    }

    /// QD's queries: the tokens B,N,D of a square grid at even rows and columns (`x[:, :, ::2, ::2]`) -> B,N/4,D.
    static func evenTokens(_ t: Tensor) -> Tensor {
        let (b, n, d) = (t.size(0), t.size(1), t.size(2))
        let side = Int(Double(n).squareRoot())
        precondition(side * side == n && side % 2 == 0, "SegViT QD needs an even square token grid, got \(n) tokens")
        let grid = t.transpose(1, 2).reshape([b, d, side, side])  // B,N,D -> B,D,s,s
        let down = grid.slice(2, start: 0, end: side, step: 2).slice(3, start: 0, end: side, step: 2)
        return down.reshape([b, d, n / 4]).transpose(1, 2)  // B,D,s/2,s/2 -> B,N/4,D
    }

    /// mmseg's ViT `init_weights` without a checkpoint (timm's "jax" scheme): position embedding and cls token
    /// trunc-normal 0.02; Linear trunc-normal 0.02 with zero bias, FFN biases N(0, 1e-6); the patch conv kaiming-normal
    /// (fan_in) with zero bias; LayerNorm (1, 0). The packed in_proj keeps torch's xavier-uniform init.
    func initializeViTWeights() {
        Init.truncNormal_(posEmbed, std: 0.02)
        Init.truncNormal_(clsToken, std: 0.02)
        for (name, m) in namedModules() {
            if let l = m as? Linear {
                Init.truncNormal_(l.weight, std: 0.02)
                if let b = l.bias {
                    if name.contains("ffn") { Init.normal_(b, std: 1e-6) } else { Init.zeros_(b) }
                }
            } else if let c = m as? Conv2d {
                Init.kaimingNormalFanIn_(c.weight)
                if let b = c.bias { Init.zeros_(b) }
            } else if let n = m as? LayerNorm {
                Init.ones_(n.weight)
                Init.zeros_(n.bias)
            }
        }
    }
}
