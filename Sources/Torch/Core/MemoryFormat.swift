import CTorch

/// How a 4-D tensor's elements lie in memory. `channelsLast` (NHWC) is what oneDNN's convolutions read and write
/// without reordering, and it is the token layout B,N,C of a B,C,H,W map, so the two views share one buffer.
public enum MemoryFormat: Int32, Sendable {
    case contiguous = 0
    case channelsLast = 1
}

extension Tensor.Checked {
    public func contiguous(_ format: MemoryFormat) throws -> Tensor {
        try Tensor.make("contiguous") { ts_contiguous_format(h, format.rawValue, $0) }
    }
    /// max(self, 0) in place.
    public func relu_() throws { try Tensor.check("relu_", ts_relu_(h)) }
    /// self + value · a · b in one pass (`torch.addcmul`), broadcasting.
    public func addcmul(_ a: Tensor, _ b: Tensor, value: Double = 1) throws -> Tensor {
        try Tensor.make("addcmul") { ts_addcmul(h, a.handle, b.handle, value, $0) }
    }
}

extension Tensor {
    public func isContiguous(_ format: MemoryFormat) -> Bool { ts_is_contiguous_format(handle, format.rawValue) != 0 }
    /// This tensor if already laid out so, else a copy.
    public func contiguous(_ format: MemoryFormat) -> Tensor {
        isContiguous(format) ? self : Tensor.trap { try checked.contiguous(format) }
    }
    /// self + value · a · b in one pass, e.g. a residual plus a layer-scaled branch without a temporary.
    public func addcmul(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor { Tensor.trap { try checked.addcmul(a, b, value: value) } }
    /// ReLU in place: for inference code on tensors it owns (autograd may need the input).
    public func relu_() { Tensor.trap { try checked.relu_() } }
}
