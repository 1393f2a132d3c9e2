import Torch

/// `DWCPatchEmbed`: one DWConv2d_BN under the key `patch_conv`.
final class PatchEmbed: Module {
    let patchConv: DWConv2dBN

    init(channels: Int, stride: Int) {
        patchConv = DWConv2dBN(channels: channels, stride: stride)
        super.init()
        register(modules: ("patch_conv", patchConv))
    }

    override func callAsFunction(_ x: Tensor) -> Tensor { patchConv(x) }
}

/// `Patch_Embed_stage`: two chained patch embeddings; both outputs feed the stage (`patch_embeds.{0,1}`).
final class PatchEmbedStage: Module {
    let patchEmbeds: ModuleList<PatchEmbed>

    init(channels: Int, strides: [Int]) {
        patchEmbeds = ModuleList(strides.map { PatchEmbed(channels: channels, stride: $0) })
        super.init()
        register(modules: ("patch_embeds", patchEmbeds))
    }

    /// x -> [a0, a1] with a1 = embed1(a0).
    func embed(_ x: Tensor) -> [Tensor] {
        var outputs: [Tensor] = []
        var y = x
        for embed in patchEmbeds.items {
            y = embed(y)
            outputs.append(y)
        }
        return outputs
    }
}

/// `MHCA_stage`: the paper's parallel heterogeneous stage. Stage 0 is CNN only: Restore(a0 + a1). Later stages
/// add the CNN branch Restore(a0) at full stage resolution and the transformer branch Encoder(a1) at its reduced
/// resolution, upsampled (bilinear, align_corners true) when the sizes differ. A 1x1 Conv-BN-Hardswish
/// (`aggregate`) then sets the next stage's width.
final class MHCAStage: Module {
    let restore: Restore
    let aggregate: Conv2dBN
    let encoder: MHCAEncoder?

    init(dim: Int, outDim: Int, depth: Int, heads: Int, mlpRatio: Int, hasEncoder: Bool) {
        restore = Restore(channels: dim)
        aggregate = Conv2dBN(dim, outDim, hardswish: true)
        encoder = hasEncoder ? MHCAEncoder(dim: dim, depth: depth, heads: heads, mlpRatio: mlpRatio) : nil
        super.init()
        // One encoder per path; every config has one path.
        register(modules: ("Restore", restore), ("aggregate", aggregate), ("mhca_blks", encoder.map { ModuleList([$0]) }))
    }

    /// [a0, a1] -> B,outDim,H0,W0 (a0's size). Taps `Restore`, `mhca_blks.0` (encoder output before the
    /// upsampling) and the encoder's parts.
    func callAsFunction(_ inputs: [Tensor], tap: Tap?) -> Tensor {
        guard let encoder else {
            let local = restore(inputs[0] + inputs[1])
            tap?("Restore", local)
            return aggregate(local)
        }
        let local = restore(inputs[0])
        tap?("Restore", local)
        let (h, w) = (inputs[1].size(2), inputs[1].size(3))
        var global = encoder(mapToTokens(inputs[1]), height: h, width: w, tap: prefixed(tap, "mhca_blks.0"))
        tap?("mhca_blks.0", global)
        let size = (local.size(2), local.size(3))
        if (h, w) != size {
            global = F.interpolate(global, size: size, mode: .bilinear(alignCorners: true))
        }
        return aggregate(local + global)
    }
}

/// The AFFormer backbone (`AFFormer`): a stem of two stride-2 Conv-BN-Hardswish (to 1/4), then four stages.
/// Returns all four stage outputs (strides 4, 8, 8, 8); the head reads only the last.
public final class AFFormerBackbone: Module {
    public let config: AFFormerConfig
    let stem: Sequential
    let patchEmbedStages: ModuleList<PatchEmbedStage>
    let stages: ModuleList<MHCAStage>

    public init(_ config: AFFormerConfig) {
        self.config = config
        let dims = config.embedDims
        stem = Sequential(Conv2dBN(3, dims[0] / 2, kernel: 3, stride: 2, padding: 1, hardswish: true),
                          Conv2dBN(dims[0] / 2, dims[0], kernel: 3, stride: 2, padding: 1, hardswish: true))
        patchEmbedStages = ModuleList((0..<4).map { PatchEmbedStage(channels: dims[$0], strides: AFFormerConfig.patchStrides[$0]) })
        stages = ModuleList((0..<4).map { i in
            MHCAStage(dim: dims[i], outDim: dims[min(i + 1, 3)], depth: config.depths[i], heads: config.heads,
                      mlpRatio: config.mlpRatio, hasEncoder: i > 0)
        })
        super.init()
        register(modules: ("stem", stem), ("patch_embed_stages", patchEmbedStages), ("mhca_stages", stages))
    }

    /// B,3,H,W -> the four stage outputs.
    public func features(_ x: Tensor) -> [Tensor] { features(x, tap: nil) }

    /// Taps `stem`, `patch_embed_stages.i.{0,1}`, `mhca_stages.i[.part]`.
    func features(_ x: Tensor, tap: Tap?) -> [Tensor] {
        var y = stem(x)
        tap?("stem", y)
        var outputs: [Tensor] = []
        for (i, (embed, stage)) in zip(patchEmbedStages.items, stages.items).enumerated() {
            let inputs = embed.embed(y)
            for (k, t) in inputs.enumerated() { tap?("patch_embed_stages.\(i).\(k)", t) }
            y = stage(inputs, tap: prefixed(tap, "mhca_stages.\(i)"))
            tap?("mhca_stages.\(i)", y)
            outputs.append(y)
        }
        return outputs
    }
}

extension AFFormerBackbone: FeatureExtractor {}
