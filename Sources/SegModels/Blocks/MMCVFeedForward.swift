import Torch

/// mmcv's `FFN` (cnn/bricks/transformer.py) with two fully connected layers and its parameter names:
/// `layers.0.0` Linear dim -> hidden, activation, dropout; `layers.1` Linear hidden -> dim; dropout.
/// The residual is added here, through stochastic depth (`dropout_layer=DropPath`) when `dropPath` > 0:
/// `x + drop_path(layers(x))`, where x is the (already normalised) input unless an identity is passed.
public final class MMCVFeedForward: Module {
    public let fc1: Linear
    public let fc2: Linear
    let layers: Sequential
    let dropPath: DropPath

    public init(dim: Int, hidden: Int, activation: Module = GELU(), dropout: Double = 0, dropPath: Double = 0) {
        fc1 = Linear(dim, hidden)
        fc2 = Linear(hidden, dim)
        layers = Sequential(Sequential(fc1, activation, Dropout(dropout)), fc2, Dropout(dropout))
        self.dropPath = DropPath(dropPath)
        super.init()
        register(modules: ("layers", layers), ("dropout_layer", self.dropPath))
    }

    /// identity + drop_path(fc2(act(fc1(x)))); x: B,N,dim.
    public func callAsFunction(_ x: Tensor, identity: Tensor) -> Tensor {
        identity + dropPath(layers(x))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { self(x, identity: x) }
}
