import TorchIO

/// A foreign checkpoint layout a family can read (timm ViT weights, an encoder-only release, ...): how to
/// recognise it from its keys and how to turn it into SwiftSeg's (= the official) state_dict keys.
public struct CheckpointKeyMap: Sendable {
    public let name: String
    public let matches: @Sendable (_ keys: [String]) -> Bool
    public let convert: @Sendable (HostTensorDict) throws -> HostTensorDict

    public init(name: String, matches: @escaping @Sendable ([String]) -> Bool,
                convert: @escaping @Sendable (HostTensorDict) throws -> HostTensorDict) {
        self.name = name
        self.matches = matches
        self.convert = convert
    }
}
