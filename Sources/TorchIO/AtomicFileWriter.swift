import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that it appears complete or not at all: the content goes to a temporary file
/// in the same folder (same file system, so the rename is atomic), which then replaces `url`.
enum AtomicFileWriter {
    static func write(to url: URL, operation: String, _ body: (FileHandle) throws -> Void) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        func fail(_ message: String) -> TorchIOError { TorchIOError(operation, "\(url.path): \(message)") }

        if let problem = FileAccess.replaceProblem(url) { throw fail("cannot write: \(problem)") }
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw fail("cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
        }
        var renamed = false
        defer { if !renamed { try? FileManager.default.removeItem(at: temp) } }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            defer { try? handle.close() }
            try body(handle)
            try handle.synchronize()
        } catch let error as TorchIOError {
            throw error
        } catch {
            throw fail("write failed: \(FileAccess.reason(error))")
        }
        guard rename(temp.path, url.path) == 0 else {
            throw fail("cannot move the temporary file into place (\(String(cString: strerror(errno))))")
        }
        renamed = true
    }
}
