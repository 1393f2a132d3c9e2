import Torch

/// One buildable model of a family ("lrformer-t", "segformer-b2", "lrformer-xl-backbone").
public struct ModelVariant: Sendable {
    public enum Kind: String, Sendable {
        /// Conforms to `SegmentationModel`: logits, prediction, training outputs.
        case segmentation
        /// An ImageNet classifier (plain forward to class logits).
        case classifier
        /// A bare encoder, conforming to `FeatureExtractor` (FLOP counts of backbones published alone).
        case backbone
        /// Reduced configurations of the parity fixtures.
        case testing
    }

    public let name: String
    public let summary: String
    public let kind: Kind
    public let defaultClasses: Int
    /// The input normalisation its weights expect.
    public let normalization: Normalization
    let build: @Sendable (_ numClasses: Int) -> Module

    public init(name: String, summary: String, kind: Kind = .segmentation, defaultClasses: Int = 150,
                normalization: Normalization = .imageNet, build: @escaping @Sendable (_ numClasses: Int) -> Module) {
        self.name = name
        self.summary = summary
        self.kind = kind
        self.defaultClasses = defaultClasses
        self.normalization = normalization
        self.build = build
    }
}

/// Encoders that return their stage outputs.
public protocol FeatureExtractor: Module {
    /// B,3,H,W -> the stage outputs, finest first.
    func features(_ x: Tensor) -> [Tensor]
}
