// Fused element-wise ops for inference code (ctorch_inference.h).

import CTorch

extension Tensor.Checked {
    /// max(self, 0) in place.
    public func relu_() throws { try Tensor.check("relu_", ts_relu_(h)) }
    /// self + value · a · b in one pass (`torch.addcmul`), broadcasting.
    public func addcmul(_ a: Tensor, _ b: Tensor, value: Double = 1) throws -> Tensor {
        try Tensor.make("addcmul") { ts_addcmul(h, a.handle, b.handle, value, $0) }
    }
}

extension Tensor {
    /// self + value · a · b in one pass, e.g. a residual plus a layer-scaled branch without a temporary.
    public func addcmul(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor { Tensor.trap { try checked.addcmul(a, b, value: value) } }
    /// ReLU in place: for inference code on tensors it owns (autograd may need the input).
    public func relu_() { Tensor.trap { try checked.relu_() } }
}
