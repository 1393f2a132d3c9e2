// A JSON Lines log (one JSON object per line), as mmengine's `scalars.json`: easy to tail, grep and plot,
// and a crash loses at most the line being written.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ReportError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path) for writing: \(reason)"
        case let .cannotWrite(path, reason): return "cannot write to \(path): \(reason)"
        }
    }
}

/// Appends one JSON value per line. The file is opened with O_APPEND and each line goes out in a single
/// write(2), with no user-space buffer, so readers always see whole lines and nothing waits in memory.
/// Thread-safe.
public final class JSONLinesLog: @unchecked Sendable {
    public let url: URL
    private let fd: Int32
    private let lock = NSLock()

    /// Opens (creating it and its folder if needed) `url`; `truncate` starts a new log instead of appending.
    public init(url: URL, truncate: Bool = false) throws {
        self.url = url
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let flags = O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0)
        let fd = open(url.path, flags, 0o644)
        guard fd >= 0 else { throw ReportError.cannotOpen(path: url.path, reason: String(cString: strerror(errno))) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes an Encodable value as one line with JSONEncoder (keys sorted; encode non-finite numbers as nil).
    public func append<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try writeLine(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    private func writeLine(_ text: String) throws {
        precondition(!text.contains("\n"), "JSONLinesLog: a record must be a single line")
        let bytes = Array((text + "\n").utf8)
        lock.lock()
        defer { lock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReportError.cannotWrite(path: url.path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Reads a JSON Lines file back as one Foundation object per non-empty line.
    public static func read(_ url: URL) throws -> [Any] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        }
    }
}
