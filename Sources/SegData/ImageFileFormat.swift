import Foundation
import TorchIO

/// The container of an image file, told by its first bytes: file extensions lie (a PNG named .jpg is common).
enum ImageFileFormat: String {
    case jpeg = "JPEG"
    case png = "PNG"

    private static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    init?(magic data: Data) {
        let head = [UInt8](data.prefix(8))
        if head.count >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF {
            self = .jpeg
        } else if head == Self.pngSignature {
            self = .png
        } else {
            return nil
        }
    }

    /// Reads a whole file, with errors that say which file and why.
    static func readFile(_ url: URL) throws -> Data {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageIOError(.fileNotFound, path: path, reason: "file not found")
        }
        guard !isDirectory.boolValue else {
            throw ImageIOError(.unreadable, path: path, reason: "is a directory, not an image file")
        }
        if let problem = FileAccess.readProblem(url) { throw ImageIOError(.unreadable, path: path, reason: "cannot read: \(problem)") }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw ImageIOError(.unreadable, path: path, reason: "cannot read: \(FileAccess.reason(error))")
        }
    }

    /// Reads a file and tells its format, or throws naming the bytes it found.
    static func readFileAndFormat(_ url: URL) throws -> (Data, ImageFileFormat) {
        let data = try readFile(url)
        guard let format = ImageFileFormat(magic: data) else {
            let reason = data.isEmpty
                ? "empty file"
                : "unknown image format (not JPEG or PNG; first bytes \(data.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")))"
            throw ImageIOError(.unknownFormat, path: url.path, reason: reason)
        }
        return (data, format)
    }
}
