import Foundation

/// `nn.Embedding`: a learnable table `weight` [count, dim], N(0, 1) at start (torch's init). Query-based decoders
/// read the whole table as their learned queries.
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int) {
        weight = Tensor.empty([count, dim])
        super.init()
        Init.normal_(weight)
        register(parameters: ("weight", weight))
    }

    /// The rows at int64 `indices` (any shape) -> indices.shape + [dim].
    public override func callAsFunction(_ indices: Tensor) -> Tensor {
        weight.indexSelect(0, indices.flatten()).reshape(indices.shape + [weight.size(1)])
    }
}
