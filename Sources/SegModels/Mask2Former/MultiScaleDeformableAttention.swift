import Foundation
import Torch

/// mmcv's `MultiScaleDeformableAttention` (Deformable DETR), batch-first, on its pure-PyTorch path: every query
/// predicts, per head, level and point, an offset from its reference point and a weight; the values are sampled
/// bilinearly at those locations (zero outside the map) and summed with the softmax-normalised weights.
public final class MultiScaleDeformableAttention: Module {
    public let dim: Int
    public let heads: Int
    public let levels: Int
    public let points: Int
    public let samplingOffsets: Linear
    public let attentionWeights: Linear
    public let valueProj: Linear
    public let outputProj: Linear

    public init(dim: Int, heads: Int, levels: Int, points: Int) {
        precondition(dim % heads == 0, "MultiScaleDeformableAttention: dim \(dim) must divide by heads \(heads)")
        self.dim = dim
        self.heads = heads
        self.levels = levels
        self.points = points
        samplingOffsets = Linear(dim, heads * levels * points * 2)
        attentionWeights = Linear(dim, heads * levels * points)
        valueProj = Linear(dim, dim)
        outputProj = Linear(dim, dim)
        super.init()
        register(modules: ("sampling_offsets", samplingOffsets), ("attention_weights", attentionWeights),
                 ("value_proj", valueProj), ("output_proj", outputProj))
        initializeWeights()
    }

    /// mmcv's `init_weights`: zero offset weights with a bias that points head h along angle 2πh/heads, at
    /// distance 1...points; zero attention weights; Xavier-uniform projections with zero bias.
    func initializeWeights() {
        Init.zeros_(samplingOffsets.weight)
        var grid: [Float] = []
        for h in 0..<heads {
            let theta = Float(h) * (2 * Float.pi / Float(heads))
            let (c, s) = (Foundation.cos(theta), Foundation.sin(theta))
            let m = max(abs(c), abs(s))
            for _ in 0..<levels {
                for p in 0..<points { grid += [c / m * Float(p + 1), s / m * Float(p + 1)] }
            }
        }
        Torch.noGrad { samplingOffsets.bias!.copy_(Tensor(grid)) }
        Init.zeros_(attentionWeights.weight)
        Init.zeros_(attentionWeights.bias!)
        for l in [valueProj, outputProj] {
            Init.xavierUniform_(l.weight)
            Init.zeros_(l.bias!)
        }
    }

    /// query B,Nq,C (positions `queryPos` are added to it for the offsets and weights only); value B,Nv,C, the
    /// levels' maps flattened and concatenated; `reference` 1|B,Nq,2 (x, y) in [0, 1]; `shapes` the levels' H x W.
    /// Returns B,Nq,C with the input query added.
    public func callAsFunction(query: Tensor, queryPos: Tensor?, value: Tensor, reference: Tensor, shapes: [(h: Int, w: Int)]) -> Tensor {
        precondition(shapes.count == levels, "deformable attention built for \(levels) levels, given \(shapes.count)")
        let (b, nq, nv) = (query.size(0), query.size(1), value.size(1))
        let q = queryPos.map { query + $0 } ?? query
        let v = valueProj(value).view([b, nv, heads, dim / heads])
        let offsets = samplingOffsets(q).view([b, nq, heads, levels, points, 2])
        let weights = F.softmax(attentionWeights(q).view([b, nq, heads, levels * points]), dim: -1)
            .view([b, nq, heads, levels, points])
        // Offsets are in cells of each level: divide by (W, H) to move in normalised coordinates.
        let normalizer = Tensor(shapes.flatMap { [Float($0.w), Float($0.h)] }, shape: [1, 1, 1, levels, 1, 2]).to(query.device)
        let locations = reference.view([reference.size(0), nq, 1, 1, 1, 2]) + offsets / normalizer
        let out = Self.sample(value: v, shapes: shapes, locations: locations, weights: weights)
        return query + outputProj(out)
    }

    /// `multi_scale_deformable_attn_pytorch`: value B,Nv,heads,d; locations B,Nq,heads,L,P,2 in [0, 1]; weights
    /// B,Nq,heads,L,P -> B,Nq,heads·d. One `grid_sample` per level (bilinear, zero padding, align_corners false).
    public static func sample(value: Tensor, shapes: [(h: Int, w: Int)], locations: Tensor, weights: Tensor) -> Tensor {
        let (b, heads, d) = (value.size(0), value.size(2), value.size(3))
        let (nq, levels, points) = (locations.size(1), locations.size(3), locations.size(4))
        let perLevel = value.split(sizes: shapes.map { $0.h * $0.w }, dim: 1)
        let grids = locations * 2 - 1  // [0, 1] -> [-1, 1]
        var sampled: [Tensor] = []
        for (l, (h, w)) in shapes.enumerated() {
            // B,HW,heads,d -> B,heads·d,HW -> B·heads,d,H,W
            let map = perLevel[l].flatten(start: 2).transpose(1, 2).reshape([b * heads, d, h, w])
            // B,Nq,heads,P,2 -> B·heads,Nq,P,2
            let grid = grids.select(3, l).transpose(1, 2).flatten(start: 0, end: 1)
            // Sampled in the locations' precision (float32, as autocast runs grid_sampler), back in the values'.
            sampled.append(F.gridSample(map.to(grid.dtype), grid).to(value.dtype))  // B·heads,d,Nq,P
        }
        // B,Nq,heads,L,P -> B·heads,1,Nq,L·P
        let w = weights.transpose(1, 2).reshape([b * heads, 1, nq, levels * points])
        let out = (Tensor.stack(sampled, dim: -2).flatten(start: -2) * w).sum(dim: -1).view([b, heads * d, nq])
        return out.transpose(1, 2).contiguous()  // B,Nq,heads·d
    }
}
