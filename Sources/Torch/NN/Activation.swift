/// A pointwise function applied to a layer's output. Convolutions and linear layers take one as an argument, so
/// that the inference path can apply it inside the oneDNN kernel (no extra pass over the output); the plain path
/// applies it as a separate op.
public enum Activation: Sendable, Equatable {
    case identity, relu, gelu, geluTanh, hardswish, silu, sigmoid

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .identity: return x
        case .relu: return F.relu(x)
        case .gelu: return F.gelu(x)
        case .geluTanh: return F.gelu(x, tanhApproximation: true)
        case .hardswish: return F.hardswish(x)
        case .silu: return F.silu(x)
        case .sigmoid: return F.sigmoid(x)
        }
    }

    /// oneDNN's post-op name and algorithm (mkldnn fusion attributes).
    var oneDNN: (attr: String, algorithm: String?) {
        switch self {
        case .identity: return ("none", nil)
        case .relu: return ("relu", nil)
        case .gelu: return ("gelu", "none")
        case .geluTanh: return ("gelu", "tanh")
        case .hardswish: return ("hardswish", nil)
        case .silu: return ("swish", nil)
        case .sigmoid: return ("sigmoid", nil)
        }
    }
}

/// Layers that are nothing but an activation (`GELU()`, `ReLU()`, ...): a container may fuse them into the
/// convolution before them.
public protocol ActivationLayer: Module {
    var activation: Activation { get }
}

extension GELU: ActivationLayer { public var activation: Activation { .gelu } }
extension ReLU: ActivationLayer { public var activation: Activation { .relu } }
extension Hardswish: ActivationLayer { public var activation: Activation { .hardswish } }
