import Torch

/// Overlapping patch embedding (PVTv2, SegFormer's MiT, LRFormer stages 2-4): a strided conv whose kernel
/// is larger than its stride (`proj`, padding kernel/2), then LayerNorm over the tokens.
///
/// The two families store the same layers under different names and eps: LRFormer `norm` (eps 1e-6),
/// Hugging Face SegFormer `layer_norm` (PyTorch's default 1e-5), so both are arguments.
public final class OverlapPatchEmbed: Module {
    public let proj: Conv2d
    public let norm: LayerNorm

    public init(_ inChannels: Int, _ outChannels: Int, patchSize: Int, stride: Int, normEps: Double, normName: String = "norm") {
        proj = Conv2d(inChannels, outChannels, kernel: patchSize, stride: stride, padding: patchSize / 2)
        norm = LayerNorm(outChannels, eps: normEps)
        super.init()
        register(modules: ("proj", proj), (normName, norm))
    }

    /// B,C,H,W -> tokens B,N,C' and the grid size H' x W' (N = H'W'). The grid is the conv's real output
    /// size, floor((H - 1) / stride) + 1 for an odd kernel, so any input size works.
    public func embed(_ x: Tensor) -> (Tensor, Int, Int) {
        let y = proj(x)
        return (norm(y.flatten(start: 2).transpose(1, 2)), y.size(2), y.size(3))  // B,C',H',W' -> B,N,C'
    }
}
