import CTorch

// Sampling at arbitrary points (deformable attention, point-sampled mask losses) and the binary cross-entropy
// those losses use: the throwing forms in `Functional.Checked`, the trapping ones in `Functional`.

extension Functional {
    public enum GridSampleMode: Int32, Sendable { case bilinear = 0, nearest = 1, bicubic = 2 }
    public enum GridSamplePadding: Int32, Sendable { case zeros = 0, border = 1, reflection = 2 }

    /// `F.grid_sample` on NCHW: input N,C,H,W and grid N,Ho,Wo,2 of (x, y) in [-1, 1] -> N,C,Ho,Wo.
    public static func gridSample(_ input: Tensor, _ grid: Tensor, mode: GridSampleMode = .bilinear,
                                  padding: GridSamplePadding = .zeros, alignCorners: Bool = false) -> Tensor {
        Tensor.trap { try Checked.gridSample(input, grid, mode: mode, padding: padding, alignCorners: alignCorners) }
    }

    /// `F.binary_cross_entropy_with_logits` (targets in [0, 1], same shape as the logits).
    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                                    posWeight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
        Tensor.trap { try Checked.binaryCrossEntropyWithLogits(logits, target, weight: weight, posWeight: posWeight, reduction: reduction) }
    }
}

extension Functional.Checked {
    public static func gridSample(_ input: Tensor, _ grid: Tensor, mode: Functional.GridSampleMode = .bilinear,
                                  padding: Functional.GridSamplePadding = .zeros, alignCorners: Bool = false) throws -> Tensor {
        let out = try Tensor.make("grid_sample") {
            ts_grid_sample(input.handle, grid.handle, mode.rawValue, padding.rawValue, alignCorners ? 1 : 0, $0)
        }
        // mmengine's counter names the traced op `grid_sampler`.
        OpRecorder.note("grid_sampler", [input, grid], out, ["mode": Int(mode.rawValue)])
        return out
    }

    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, weight: Tensor?, posWeight: Tensor?,
                                                    reduction: Functional.Reduction) throws -> Tensor {
        try Tensor.make("binary_cross_entropy_with_logits") {
            ts_binary_cross_entropy_with_logits(logits.handle, target.handle, weight?.handle, posWeight?.handle, reduction.rawValue, $0)
        }
    }
}
