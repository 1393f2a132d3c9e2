import Foundation
import TorchIO

/// Folder listing helpers shared by the layouts: sorted, hidden files skipped, errors naming the folder.
enum FileListing {
    /// Image files the readers can decode (the format itself is told by magic bytes).
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    static func fileExists(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && !isDir.boolValue
    }

    /// Throws `missingFolder` naming `url` and what was expected there.
    static func requireDirectory(_ url: URL, _ what: String) throws {
        guard isDirectory(url) else {
            throw DatasetError(.missingFolder, path: url.path, reason: "missing folder (\(what))")
        }
    }

    /// Regular files directly in `dir`, sorted by name.
    static func files(in dir: URL) throws -> [URL] {
        try entries(in: dir).filter { fileExists($0) }
    }

    /// Sub-folders directly in `dir`, sorted by name.
    static func subdirectories(in dir: URL) throws -> [URL] {
        try entries(in: dir).filter { isDirectory($0) }
    }

    /// Visible entries of `dir`, sorted by name.
    private static func entries(in dir: URL) throws -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        } catch {
            throw DatasetError(.missingFolder, path: dir.path, reason: "cannot list folder: \(FileAccess.reason(error))")
        }
        return names.sorted().filter { !$0.hasPrefix(".") }.map { dir.appendingPathComponent($0) }
    }

    /// Image files directly in `dir`, sorted; `emptySplit` when there are none.
    static func images(in dir: URL, split: DatasetSplit) throws -> [URL] {
        let found = try files(in: dir).filter { imageExtensions.contains($0.pathExtension.lowercased()) }
        guard !found.isEmpty else {
            throw DatasetError(.emptySplit, path: dir.path, reason: "no images (.jpg, .jpeg, .png) for split '\(split.rawValue)'")
        }
        return found
    }

    /// The file name without its last extension.
    static func stem(_ url: URL) -> String {
        url.deletingPathExtension().lastPathComponent
    }

    static func missingLabel(image: URL, expected: URL) -> DatasetError {
        DatasetError(.missingLabel, path: image.path, reason: "image has no label file; expected \(expected.path)")
    }
}
