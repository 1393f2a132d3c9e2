/// A data set that cannot be listed or a sample that cannot be loaded. The message names the path.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        case missingFolder
        /// An image without its label file.
        case missingLabel
        /// A split folder with no images in it.
        case emptySplit
        /// A label value that is neither a class index nor the ignore index.
        case labelOutOfRange
        /// Image and label of one sample differ in size.
        case sizeMismatch
        /// A `classes.json` / `synth_classes.json` that cannot be used.
        case invalidClassesFile
        /// No known layout under a data root.
        case unknownLayout
        case indexOutOfRange
        case writeFailed
    }

    public let kind: Kind
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
