import Torch

// The paper's "prototype learning" branch: a transformer encoder on the reduced-resolution map.

/// B,N,C tokens of an H x W map -> B,C,H,W (a view).
func tokensToMap(_ x: Tensor, height h: Int, width w: Int) -> Tensor {
    x.transpose(1, 2).view([x.size(0), x.size(2), h, w])
}

/// B,C,H,W -> B,N,C tokens.
func mapToTokens(_ x: Tensor) -> Tensor { x.flatten(start: 2).transpose(1, 2) }

/// `ConvPosEnc` (shared by all blocks of an encoder, key `cpe`): x + depth-wise 3x3 conv (with bias) of x as an image.
final class ConvPositionEncoding: Module {
    let proj: Conv2d

    init(dim: Int) {
        proj = Conv2d.depthwise(dim)
        super.init()
        register(modules: ("proj", proj))
    }

    func callAsFunction(_ x: Tensor, height h: Int, width w: Int) -> Tensor {
        let map = tokensToMap(x, height: h, width: w)
        return mapToTokens(proj(map) + map)
    }
}

/// `DWConv`: a depth-wise 3x3 conv (with bias) on tokens seen as an H x W image.
final class TokenDepthwiseConv: Module {
    let dwconv: Conv2d

    init(dim: Int) {
        dwconv = Conv2d.depthwise(dim)
        super.init()
        register(modules: ("dwconv", dwconv))
    }

    func callAsFunction(_ x: Tensor, height h: Int, width w: Int) -> Tensor {
        mapToTokens(dwconv(tokensToMap(x, height: h, width: w)))
    }
}

/// `Mlp`: fc1 (C -> rC) -> GELU(u + dwconv(u)) -> fc2.
final class ConvFeedForward: Module {
    let fc1: Linear
    let dwconv: TokenDepthwiseConv
    let fc2: Linear

    init(dim: Int, hidden: Int) {
        fc1 = Linear(dim, hidden)
        dwconv = TokenDepthwiseConv(dim: hidden)
        fc2 = Linear(hidden, dim)
        super.init()
        register(modules: ("fc1", fc1), ("dwconv", dwconv), ("fc2", fc2))
    }

    func callAsFunction(_ x: Tensor, height h: Int, width w: Int) -> Tensor {
        let u = fc1(x)
        return fc2(F.gelu(u + dwconv(u, height: h, width: w)))
    }
}

/// `MHCABlock`: x = cpe(x); x = x + attention(LN1(x)); x = x + mlp(LN2(x)) (LayerNorm eps 1e-6, no drop path:
/// every config sets it to 0). `cpe` and `crpe` are the encoder's shared modules, registered here too, so the
/// state_dict lists them under this block's keys as PyTorch does.
final class MHCABlock: Module {
    let cpe: ConvPositionEncoding
    let attention: FrequencyFilterAttention
    let mlp: ConvFeedForward
    let norm1: LayerNorm
    let norm2: LayerNorm

    init(dim: Int, heads: Int, mlpRatio: Int, sharedCPE: ConvPositionEncoding, sharedFilter: FrequencyFilter) {
        cpe = sharedCPE
        attention = FrequencyFilterAttention(dim: dim, heads: heads, sharedFilter: sharedFilter)
        mlp = ConvFeedForward(dim: dim, hidden: dim * mlpRatio)
        norm1 = LayerNorm(dim, eps: 1e-6)
        norm2 = LayerNorm(dim, eps: 1e-6)
        super.init()
        register(modules: ("cpe", cpe), ("crpe", sharedFilter), ("factoratt_crpe", attention), ("mlp", mlp),
                 ("norm1", norm1), ("norm2", norm2))
    }

    /// Tokens B,N,C -> B,N,C. Taps `cpe`, `norm1`, `crpe`, `crpe.LP`, `factoratt_crpe`, `mlp`.
    func callAsFunction(_ x: Tensor, height h: Int, width w: Int, tap: Tap?) -> Tensor {
        var x = cpe(x, height: h, width: w)
        tap?("cpe", x)
        let normed = norm1(x)
        tap?("norm1", normed)
        let attended = attention(normed, height: h, width: w, tap: tap)
        tap?("factoratt_crpe", attended)
        x = x + attended
        let mixed = mlp(norm2(x), height: h, width: w)
        tap?("mlp", mixed)
        return x + mixed
    }
}

/// `MHCAEncoder`: blocks sharing one position encoding (`cpe`) and one frequency filter (`crpe`), on the tokens
/// of an H x W map; returns the map B,C,H,W.
final class MHCAEncoder: Module {
    let cpe: ConvPositionEncoding
    let crpe: FrequencyFilter
    let layers: ModuleList<MHCABlock>

    init(dim: Int, depth: Int, heads: Int, mlpRatio: Int) {
        cpe = ConvPositionEncoding(dim: dim)
        crpe = FrequencyFilter(headDim: dim / heads)
        layers = ModuleList((0..<depth).map { [cpe, crpe] _ in
            MHCABlock(dim: dim, heads: heads, mlpRatio: mlpRatio, sharedCPE: cpe, sharedFilter: crpe)
        })
        super.init()
        register(modules: ("cpe", cpe), ("crpe", crpe), ("MHCA_layers", layers))
    }

    /// Tokens B,N,C -> B,C,H,W. Taps every block as `MHCA_layers.j[.part]`; the shared modules' outputs as
    /// `cpe.callJ`, `crpe.callJ`, `crpe.LP.callJ` (the J-th call, as the fixtures name them).
    func callAsFunction(_ x: Tensor, height h: Int, width w: Int, tap: Tap?) -> Tensor {
        var x = x
        for (j, layer) in layers.items.enumerated() {
            let blockTap: Tap? = tap.map { tap in
                { name, t in
                    let shared = name == "cpe" || name.hasPrefix("crpe")
                    tap(shared ? "\(name).call\(j)" : "MHCA_layers.\(j).\(name)", t)
                }
            }
            x = layer(x, height: h, width: w, tap: blockTap)
            tap?("MHCA_layers.\(j)", x)
        }
        return x.reshape([x.size(0), h, w, x.size(2)]).permute(0, 3, 1, 2).contiguous()  // B,N,C -> B,C,H,W
    }
}
