/// An image or label file that could not be read or written. The message names the file and what is wrong.
public struct ImageIOError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        case fileNotFound
        case unreadable
        case unknownFormat
        /// Corrupt or truncated data, as reported by libjpeg or libpng.
        case corrupt
        /// A header claiming more pixels than the decoders accept (`Image.maxBytes` of samples): a
        /// decompression bomb or a corrupt size field, refused before anything is allocated.
        case tooLarge
        /// No memory for an image of a size the decoders accept.
        case outOfMemory
        /// A valid file of a kind this call does not accept (an RGB label PNG, say).
        case unsupported
        /// A label value above 255 in a 16-bit label PNG read as a `LabelMap`.
        case labelValueOutOfRange
        /// Arguments a caller passed in that cannot be encoded (a palette entry without 3 components, say).
        case invalidArgument
        case writeFailed
    }

    public let kind: Kind
    /// The file's path as given.
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
