/// A problem with what a user asked of the engine: a setting that cannot work, a missing or unwritable path,
/// data that does not fit the model. The message says what and where.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
