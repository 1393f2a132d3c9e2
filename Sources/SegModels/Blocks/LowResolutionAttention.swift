import Torch

/// Low-Resolution Self-Attention (LRSA), shared by the LRFormer encoder and the LRHead.
///
/// Queries are the input average-pooled to a fixed low-resolution grid (`querySize` cells on the
/// short side); keys and values come from a pyramid of pooled maps. Attention therefore runs on a
/// fixed number of tokens whatever the image size; only pooling and the final bilinear upsampling
/// grow with it.
///
/// The two call sites differ only in details that the checkpoints fix:
/// - encoder: `q` is `Sequential(Linear)` (key `q.0`), pooled keys/values are refined by the stage's
///   shared depth-wise convs (`d_convs`);
/// - decoder: `q` is a 1x1 `Conv2d` (key `q`), no refinement.
public final class LowResolutionAttention: Module {
    public enum QueryProjection { case linear, conv1x1 }

    public let heads: Int
    public let querySize: Int
    public let pyramidSizes: [Int]
    let qLinear: Linear?
    let qConv: Conv2d?
    public let kv: Linear
    public let proj: Linear
    public let norm: LayerNorm

    public init(dim: Int, heads: Int, querySize: Int, pyramidSizes: [Int], queryProjection: QueryProjection, kvSequential: Bool) {
        precondition(dim % heads == 0, "LRSA: dim \(dim) must divide by heads \(heads)")
        self.heads = heads
        self.querySize = querySize
        self.pyramidSizes = pyramidSizes
        switch queryProjection {
        case .linear: qLinear = Linear(dim, dim); qConv = nil
        case .conv1x1: qLinear = nil; qConv = Conv2d(dim, dim, kernel: 1)
        }
        kv = Linear(dim, dim * 2)
        proj = Linear(dim, dim)
        norm = LayerNorm(dim)  // eps 1e-5: PyTorch's default, as upstream
        super.init()
        if let qLinear { register(modules: ("q", Sequential(qLinear))) }
        if let qConv { register(modules: ("q", qConv)) }
        register(modules: ("kv", kvSequential ? Sequential(kv) : kv), ("proj", proj), ("norm", norm))
    }

    /// x: B,C,H,W -> B,C,H,W. `refine[i]` (optional) is added to the i-th pooled key/value map.
    /// The output has x's layout when x is channels-last (the low-resolution result is upsampled as a
    /// channels-last map, so the caller's B,C,H,W -> B,N,C token view needs no copy).
    public override func callAsFunction(_ x: Tensor) -> Tensor { self(x, refine: nil) }

    public func callAsFunction(_ x: Tensor, refine: [Conv2d]?) -> Tensor {
        let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
        let d = c / heads
        return OpRecorder.scope("lrsa") {
            // Query: pool to the fixed grid, project, split heads -> B,heads,Nq,d
            let (qh, qw) = lowResolutionGrid(base: querySize, height: h, width: w)
            let pooled = F.adaptiveAvgPool2d(x, (qh, qw))
            let q: Tensor
            if let qLinear {
                q = qLinear(pooled.view([b, c, qh * qw]).transpose(1, 2)).reshape([b, qh * qw, heads, d]).permute(0, 2, 1, 3)
            } else {
                q = qConv!(pooled).reshape([b, heads, d, qh * qw]).permute(0, 1, 3, 2)
            }

            // Keys/values: pyramid pooling (+ optional depth-wise refinement) -> B,M,C tokens
            var levels: [Tensor] = []
            for (i, base) in pyramidSizes.enumerated() {
                var p = F.adaptiveAvgPool2d(x, lowResolutionGrid(base: base, height: h, width: w))
                if let refine { p = refine[i](p, adding: p) }
                levels.append(p.permute(0, 2, 3, 1).reshape([b, -1, c]))  // B,C,h,w -> B,hw,C (a view when channels-last)
            }
            let tokens = norm(Tensor.cat(levels, dim: 1))
            let m = tokens.size(1)
            let kvOut = kv(tokens).reshape([b, m, 2, heads, d]).permute(2, 0, 3, 1, 4)  // 2,B,heads,M,d
            let (k, v) = (kvOut[0], kvOut[1])

            // softmax(q kᵀ / sqrt(d)) v, heads merged -> B,Nq,C
            let attended = OpRecorder.scope("attention") { F.scaledDotProductAttention(q, k, v) }
            let out = proj(attended.transpose(1, 2).reshape([b, qh * qw, c]))

            // Back to the input resolution: B,Nq,C is the channels-last qh x qw map (a view), upsampled channels-last.
            let grid = out.view([b, qh, qw, c]).permute(0, 3, 1, 2)
            return OpRecorder.scope("attention-upsample") { F.interpolate(grid, size: (h, w)) }
        }
    }
}
