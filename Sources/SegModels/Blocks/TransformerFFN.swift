import Torch

/// mmcv's transformer `FFN` with two layers: x + Linear(ReLU(Linear(x))), keys `layers.0.0` and `layers.1`
/// (`Sequential(Sequential(Linear, ReLU, Dropout), Linear, Dropout)`).
public final class TransformerFFN: Module {
    public let fc1: Linear
    public let fc2: Linear
    let layers: Sequential

    public init(dim: Int, hidden: Int, dropout: Double = 0) {
        fc1 = Linear(dim, hidden)
        fc2 = Linear(hidden, dim)
        layers = Sequential(Sequential(fc1, ReLU(), Dropout(dropout)), fc2, Dropout(dropout))
        super.init()
        register(modules: ("layers", layers))
    }

    /// B,N,C -> B,N,C (identity added).
    public override func callAsFunction(_ x: Tensor) -> Tensor { x + layers(x) }
}
