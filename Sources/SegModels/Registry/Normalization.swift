/// Per-channel input normalisation on RGB in the 0-255 range: (x - mean) / std.
public struct Normalization: Hashable, Codable, Sendable {
    public var mean: [Double]
    public var std: [Double]

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// mmseg's default (ImageNet statistics).
    public static let imageNet = Normalization(mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375])
    /// The "jax" normalisation of ViT checkpoints converted from JAX (SegViT): mean = std = 127.5.
    public static let jax = Normalization(mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5])
}
