import Foundation
import TorchIO

/// `classes.json`: `{"names": [...], "palette": [[r, g, b], ...]}`, palette optional. The optional
/// `"reduce_zero_label": true` marks label maps whose 0 means "other" (as ADE20K's).
public struct ClassesFile: Sendable, Equatable {
    public var classes: DatasetClasses
    public var reduceZeroLabel: Bool

    public init(classes: DatasetClasses, reduceZeroLabel: Bool = false) {
        self.classes = classes
        self.reduceZeroLabel = reduceZeroLabel
    }

    private struct Contents: Codable {
        var names: [String]
        var palette: [[Int]]?
        var reduce_zero_label: Bool?
    }

    public static func read(_ url: URL) throws -> ClassesFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError(.invalidClassesFile, path: url.path, reason: "cannot read classes file: \(FileAccess.reason(error))")
        }
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: data)
        } catch {
            throw DatasetError(.invalidClassesFile, path: url.path, reason: "expected {\"names\": [...], \"palette\": [[r, g, b], ...]}: \(error)")
        }
        let names = contents.names
        guard !names.isEmpty, names.count <= 255 else {
            throw DatasetError(.invalidClassesFile, path: url.path, reason: "needs 1 to 255 class names (255 is the ignore index), found \(names.count)")
        }
        var palette: [[UInt8]]? = nil
        if let raw = contents.palette {
            guard raw.count == names.count else {
                throw DatasetError(.invalidClassesFile, path: url.path, reason: "\(names.count) names but \(raw.count) palette entries")
            }
            if let bad = raw.firstIndex(where: { $0.count != 3 || $0.contains { !(0...255).contains($0) } }) {
                throw DatasetError(.invalidClassesFile, path: url.path, reason: "palette entry \(bad) (\(raw[bad])) is not [r, g, b] with values 0...255")
            }
            palette = raw.map { $0.map { UInt8($0) } }
        }
        return ClassesFile(classes: DatasetClasses(names: names, palette: palette), reduceZeroLabel: contents.reduce_zero_label ?? false)
    }

    public func write(to url: URL) throws {
        let contents = Contents(names: classes.names, palette: classes.palette.map { $0.map { Int($0) } },
                                reduce_zero_label: reduceZeroLabel ? true : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(contents).write(to: url, options: .atomic)
        } catch {
            throw DatasetError(.writeFailed, path: url.path, reason: "cannot write classes file: \(FileAccess.reason(error))")
        }
    }
}
