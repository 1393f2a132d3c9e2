import Foundation
import TorchIO

/// A problem with what a user asked of the engine: a setting that cannot work, a missing or unwritable path,
/// data that does not fit the model. The message says what and where.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension EngineError {
    /// A failed file operation on `path`, with the reason in words ("No space left on device"), never a Foundation
    /// error dump.
    static func file(_ what: String, _ path: String, _ error: Error) -> EngineError {
        EngineError("cannot \(what) \(path): \(FileAccess.reason(error))")
    }
}

extension Data {
    /// Writes the file atomically (a temporary file renamed over `url`); refuses to replace a device or a folder, and
    /// a failure is an `EngineError` naming the file and the reason.
    func writeAtomically(to url: URL) throws {
        if let problem = FileAccess.replaceProblem(url) { throw EngineError("cannot write \(url.path): it \(problem)") }
        do {
            try write(to: url, options: .atomic)
        } catch {
            throw EngineError.file("write", url.path, error)
        }
    }
}
