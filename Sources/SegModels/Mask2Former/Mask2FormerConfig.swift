import Torch

/// The mmdet Mask2Former head as mmseg's `Mask2FormerHead` configures it (decode_head of
/// `mask2former_r50_8xb2-160k_ade20k-*.py`; the defaults are that config's values).
public struct Mask2FormerConfig: Sendable, Equatable {
    /// Channels of the four backbone features (strides 4, 8, 16, 32).
    public var inChannels: [Int]
    public var strides: [Int] = [4, 8, 16, 32]
    /// Width of the pixel decoder and of the transformer decoder (`feat_channels` = `out_channels`).
    public var featChannels: Int = 256
    public var numQueries: Int = 100
    /// Coarsest levels the deformable encoder and the decoder's masked attention use (strides 32, 16, 8).
    public var featureLevels: Int = 3
    /// GroupNorm groups of the pixel decoder's convs.
    public var normGroups: Int = 32
    public var encoderLayers: Int = 6
    public var encoderHeads: Int = 8
    /// Sampling points per head and level of the deformable attention.
    public var encoderPoints: Int = 4
    public var encoderFFN: Int = 1024
    public var decoderLayers: Int = 9
    public var decoderHeads: Int = 8
    public var decoderFFN: Int = 2048

    public init(inChannels: [Int]) { self.inChannels = inChannels }

    /// The official head on a backbone with these feature widths.
    public static func official(inChannels: [Int]) -> Mask2FormerConfig { Mask2FormerConfig(inChannels: inChannels) }

    /// The reduced head of the LRFormer+ parity fixture (feat 32, 4 heads, 10 queries, 3 decoder layers, 1 encoder
    /// layer, FFN 64, GroupNorm 8).
    public static func tiny(inChannels: [Int]) -> Mask2FormerConfig {
        var c = Mask2FormerConfig(inChannels: inChannels)
        c.featChannels = 32
        c.numQueries = 10
        c.normGroups = 8
        c.encoderLayers = 1
        c.encoderHeads = 4
        c.encoderFFN = 64
        c.decoderLayers = 3
        c.decoderHeads = 4
        c.decoderFFN = 64
        return c
    }
}
