import Torch
import TorchIO

/// A foreign checkpoint layout a family can read (timm ViT weights, an encoder-only release, ...): how to
/// recognise it from its keys and how to turn it into SwiftSeg's (= the official) state_dict keys.
public struct CheckpointKeyMap: Sendable {
    public let name: String
    public let matches: @Sendable (_ keys: [String]) -> Bool
    /// Renames (and drops) keys; shapes stay as stored.
    public let convert: @Sendable (HostTensorDict) throws -> HostTensorDict
    /// Optionally adapts the converted tensors to the model being loaded, given its state_dict shapes (key -> shape):
    /// e.g. a ViT position embedding resized to the model's token grid.
    public let fitShapes: (@Sendable (HostTensorDict, _ target: [String: [Int]]) throws -> HostTensorDict)?

    public init(name: String, matches: @escaping @Sendable ([String]) -> Bool,
                convert: @escaping @Sendable (HostTensorDict) throws -> HostTensorDict,
                fitShapes: (@Sendable (HostTensorDict, [String: [Int]]) throws -> HostTensorDict)? = nil) {
        self.name = name
        self.matches = matches
        self.convert = convert
        self.fitShapes = fitShapes
    }

    /// `checkpoint` in the official layout of `model`: converted, then fitted to the model's shapes.
    public func apply(_ checkpoint: HostTensorDict, to model: Module) throws -> HostTensorDict {
        let converted = try convert(checkpoint)
        guard let fitShapes else { return converted }
        var shapes: [String: [Int]] = [:]
        for (key, tensor) in model.stateDict() { shapes[key] = tensor.shape }
        return try fitShapes(converted, shapes)
    }
}
