/// A problem with a file the TorchIO readers and writers were given: a malformed or hostile checkpoint,
/// an unsupported layout, or a file that cannot be written. Says which file and what is wrong.
public struct TorchIOError: Error, CustomStringConvertible, Sendable {
    /// What was being done: "safetensors", "checkpoint", "zip", "pickle".
    public let operation: String
    public let message: String

    public init(_ operation: String, _ message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }
}
