/// Every failure the Torch layer reports: libtorch's message (without its C++ backtrace), the
/// operation that raised it, or a problem with user-supplied data (files, checkpoints, shapes).
public struct TorchError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let message: String

    public init(_ operation: String, _ message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }
}
