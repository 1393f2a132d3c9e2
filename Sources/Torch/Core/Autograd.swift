import CTorch

extension Tensor {
    /// Whether autograd tracks operations on this tensor.
    public var requiresGrad: Bool {
        get { ts_requires_grad(handle) != 0 }
        set { Tensor.trap { try checked.setRequiresGrad(newValue) } }
    }

    /// The accumulated gradient, nil before the first backward pass or after `zeroGrad()`.
    public var grad: Tensor? {
        var out: ts_tensor? = nil
        Tensor.trap { try Tensor.check("grad", ts_grad(handle, &out)) }
        return out.map { Tensor(owning: $0) }
    }

    /// Drops the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() { Tensor.trap { try Tensor.check("zero_grad", ts_zero_grad(handle)) } }

    /// Back-propagates from this tensor (a scalar unless `gradient` is given).
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        Tensor.trap { try checked.backward(gradient, retainGraph: retainGraph) }
    }

    /// `torch.autograd.grad`: gradients of `outputs` with respect to `inputs` (nil where unused).
    public static func gradients(of outputs: [Tensor], withRespectTo inputs: [Tensor], createGraph: Bool = false) throws -> [Tensor?] {
        var outs = [ts_tensor?](repeating: nil, count: inputs.count)
        try withHandles(outputs) { po, no in
            try withHandles(inputs) { pi, ni in
                try check("autograd.grad", ts_autograd_grad(po, no, pi, ni, createGraph ? 1 : 0, &outs))
            }
        }
        return outs.map { $0.map { Tensor(owning: $0) } }
    }
}

extension Torch {
    public static var isGradEnabled: Bool {
        get { ts_grad_enabled() != 0 }
        set { ts_set_grad_enabled(newValue ? 1 : 0) }
    }

    /// Runs `body` without recording autograd history (`torch.no_grad()`).
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        let previous = ts_grad_enabled()
        ts_set_grad_enabled(0)
        defer { ts_set_grad_enabled(previous) }
        return try body()
    }

    /// Runs `body` in inference mode (`torch.inference_mode()`): no autograd bookkeeping at all.
    /// Tensors made inside cannot later be used in autograd.
    public static func inferenceMode<R>(_ body: () throws -> R) rethrows -> R {
        let guardHandle = ts_inference_mode_enter()
        defer { ts_inference_mode_exit(guardHandle) }
        return try body()
    }
}
