import Torch

/// Semantic inference of mask-classification heads (MaskFormer's `semantic_inference`, SegViT, Mask2Former): per-pixel
/// class scores `S[b,c,h,w] = Σ_q softmax(classLogits)[b,q,c] · σ(maskLogits)[b,q,h,w]`, the last ("no object")
/// class column dropped. classLogits B,Q,K+1 and maskLogits B,Q,H,W -> B,K,H,W.
public func semanticInference(classLogits: Tensor, maskLogits: Tensor) -> Tensor {
    let k = classLogits.size(2) - 1
    let probabilities = F.softmax(classLogits, dim: -1).narrow(2, start: 0, length: k)
    return Tensor.einsum("bqc,bqhw->bchw", probabilities, F.sigmoid(maskLogits))
}
