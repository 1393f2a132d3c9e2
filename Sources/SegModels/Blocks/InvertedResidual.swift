import Torch

/// The inverted-residual feed-forward of LRFormer blocks (`mlp`) on an NCHW map:
/// 1x1 expand (`fc1`), GELU, x + depth-wise 3x3 (`conv`), 1x1 project (`fc2`).
/// Optimized for inference, GELU runs inside fc1, the addition inside the depth-wise conv, and the block's residual
/// (with its layer scale) inside fc2.
public final class InvertedResidualFFN: Module {
    public let fc1: Conv2d
    public let conv: Conv2d
    public let fc2: Conv2d

    public init(dim: Int, hidden: Int) {
        fc1 = Conv2d(dim, hidden, kernel: 1)
        conv = Conv2d.depthwise(hidden)
        fc2 = Conv2d(hidden, dim, kernel: 1)
        super.init()
        register(modules: ("fc1", fc1), ("conv", conv), ("fc2", fc2))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { fc2(hidden(x)) }

    /// residual + scale · ffn(x), `scale` a per-channel layer scale (C elements) or nil. Optimized for inference the
    /// result is written into `residual` (see `Conv2d.callAsFunction(_:scaledBy:accumulatingInto:)`).
    public func callAsFunction(_ x: Tensor, scale: Tensor?, accumulatingInto residual: Tensor) -> Tensor {
        fc2(hidden(x), scaledBy: scale, accumulatingInto: residual)
    }

    /// h + dwconv(h), h = GELU(fc1(x)).
    private func hidden(_ x: Tensor) -> Tensor {
        let h = fc1(x, activation: .gelu)
        return conv(h, adding: h)
    }
}
