/// A problem with what a user asked of the model layer: an unknown model name, a class count out of range,
/// weights that do not fit, an input size the network cannot take.
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
