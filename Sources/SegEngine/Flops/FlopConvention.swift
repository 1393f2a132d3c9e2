// The FLOP-counting convention of mmengine's FlopAnalyzer (fvcore's JIT counter), which is what the
// LRFormer and SegFormer papers report: one multiply-add = 1 FLOP, and only the operators below count.
// See /work/shared/reference/flops.md.

import Torch

/// How a convolution is classified in the "conv split" of the report.
public enum ConvKind: String, Sendable, CaseIterable, Codable {
    /// k x k with groups == 1 (stems, patch embeddings).
    case dense = "dense kxk"
    /// 1 x 1 with groups == 1 (feed-forward expansions, squeezes, classifiers).
    case pointwise = "1x1"
    /// One filter per input channel (groups == Cin).
    case depthwise
    /// Grouped but not depth-wise (none of the current models has one).
    case grouped
}

/// The cost of one recorded operator under the convention.
public struct CountedOp: Sendable, Equatable {
    /// The operator as mmengine names it in `by_operator()` ("conv", "linear", "matmul", ...).
    public var category: String
    public var flops: Int
    /// Set for convolutions only.
    public var convKind: ConvKind?
}

public enum FlopConvention {
    /// mmengine's operator names, in the order reports list them.
    public static let categories = ["conv", "linear", "matmul", "bmm", "einsum", "layer_norm", "group_norm", "batch_norm",
                                    "upsample_bilinear2d", "upsample_nearest2d", "adaptive_avg_pool2d", "grid_sampler"]

    /// The FLOPs of `event`, or nil for an operator the convention does not count (activations, softmax,
    /// element-wise arithmetic, pooling other than adaptive average, reshapes).
    public static func cost(of event: OpEvent) -> CountedOp? {
        let out = event.output
        switch event.op {
        case "conv2d":
            // Cout x Cin/groups x kh x kw x Hout x Wout per image; the bias is ignored.
            guard event.inputs.count >= 2, event.inputs[1].count == 4, out.count == 4 else { return nil }
            let w = event.inputs[1]
            let flops = out[0] * out[2] * out[3] * product(w)
            return CountedOp(category: "conv", flops: flops, convKind: convKind(weight: w, groups: event.attributes["groups"] ?? 1))
        case "linear":
            // (numel(x) / in) x in x out = numel(x) x out.
            guard event.inputs.count >= 2, let outFeatures = event.inputs[1].first else { return nil }
            return CountedOp(category: "linear", flops: product(event.inputs[0]) * outFeatures)
        case "matmul", "bmm":
            // M x N x K for every output element's dot product of length K.
            guard let k = event.inputs.first?.last else { return nil }
            return CountedOp(category: event.op, flops: product(out) * k)
        case "scaled_dot_product_attention":
            // Counted as the official code's two explicit matmuls: q·kᵀ (N x M x d) and attn·v (N x M x dv).
            guard event.inputs.count == 3, let d = event.inputs[0].last, event.inputs[1].count >= 2, out.count >= 2 else { return nil }
            let m = event.inputs[1][event.inputs[1].count - 2]
            let n = out[out.count - 2], dv = out[out.count - 1]
            let batch = product(Array(out.dropLast(2)))
            return CountedOp(category: "matmul", flops: batch * n * m * (d + dv))
        case "layer_norm", "group_norm":
            return CountedOp(category: event.op, flops: product(event.inputs[0]) * (affine(event) ? 5 : 4))
        case "batch_norm":
            // Eval-mode cost (the counter always runs in eval mode).
            return CountedOp(category: "batch_norm", flops: product(event.inputs[0]) * (affine(event) ? 2 : 1))
        case "upsample_bilinear2d":
            return CountedOp(category: "upsample_bilinear2d", flops: 4 * product(out))
        case "upsample_nearest2d":
            return CountedOp(category: "upsample_nearest2d", flops: product(out))
        case "adaptive_avg_pool2d":
            return CountedOp(category: "adaptive_avg_pool2d", flops: product(event.inputs[0]))
        case "grid_sampler":
            // mmengine's handle "assumes bilinear": 4 x output elements (N x C x Ho x Wo), whatever the mode.
            return CountedOp(category: "grid_sampler", flops: 4 * product(out))
        default:
            if event.op.hasPrefix("einsum:"), let flops = einsumFlops(String(event.op.dropFirst(7)), event.inputs, out) {
                return CountedOp(category: "einsum", flops: flops)
            }
            return nil
        }
    }

    static func convKind(weight w: [Int], groups: Int) -> ConvKind {
        if groups > 1 { return w[1] == 1 ? .depthwise : .grouped }
        return w[2] * w[3] == 1 ? .pointwise : .dense
    }

    static func affine(_ event: OpEvent) -> Bool { (event.attributes["affine"] ?? 1) != 0 }

    /// A two-operand contraction costs (output elements) x (product of the summed-out index sizes), which
    /// is fvcore's count (numpy's optimal-path FLOPs / 2) for every contraction the models use.
    static func einsumFlops(_ equation: String, _ inputs: [[Int]], _ output: [Int]) -> Int? {
        let spec = equation.replacingOccurrences(of: " ", with: "")
        let sides = spec.components(separatedBy: "->")
        let operands = sides[0].components(separatedBy: ",")
        guard operands.count == inputs.count else { return nil }
        var sizes: [Character: Int] = [:]
        for (labels, shape) in zip(operands, inputs) {
            // Labels after an ellipsis align with the trailing dimensions.
            let named = Array(labels.replacingOccurrences(of: "...", with: ""))
            let tail = labels.contains("...") ? Array(labels.components(separatedBy: "...").last!) : named
            let head = labels.contains("...") ? Array(labels.components(separatedBy: "...").first!) : []
            guard shape.count >= named.count else { return nil }
            for (i, c) in head.enumerated() { sizes[c] = max(sizes[c] ?? 1, shape[i]) }
            for (i, c) in tail.enumerated() { sizes[c] = max(sizes[c] ?? 1, shape[shape.count - tail.count + i]) }
        }
        let outputLabels: Set<Character>
        if sides.count > 1 {
            outputLabels = Set(sides[1].filter { $0 != "." })
        } else {
            // Implicit output: the labels that occur exactly once.
            let all = operands.joined().filter { $0 != "." }
            outputLabels = Set(all.filter { c in all.filter { $0 == c }.count == 1 })
        }
        let summed = sizes.filter { !outputLabels.contains($0.key) }.values
        return product(output) * summed.reduce(1, *)
    }

    static func product(_ shape: [Int]) -> Int { shape.reduce(1, *) }
}
