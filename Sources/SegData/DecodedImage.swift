import CImageCodecs
import Foundation

/// What the C decoders return, copied into Swift arrays: samples as stored in the file, before
/// the conversions that `ImageIO` applies for images (alpha, bit depth, gray) or labels.
struct DecodedImage {
    var format: ImageFileFormat
    var width: Int
    var height: Int
    /// 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. Palette PNGs: 3 (expanded).
    var channels: Int
    /// Bit depth in the file: 1, 2, 4, 8 or 16.
    var sourceBitDepth: Int
    /// Samples of 8-bit (and sub-8-bit, unscaled) files; empty for 16-bit files.
    var samples8: [UInt8]
    /// Samples of 16-bit files; empty otherwise.
    var samples16: [UInt16]
    /// Palette PNGs only: raw index per pixel and the palette as RGB triples.
    var paletteIndices: [UInt8]?
    var palette: [[UInt8]]?
    /// JPEG EXIF orientation, 1...8 (1 when absent).
    var orientation: Int

    var isPalette: Bool { paletteIndices != nil }

    /// Decodes JPEG or PNG bytes; `path` only names the file in errors.
    static func decode(_ data: Data, format: ImageFileFormat, path: String) throws -> DecodedImage {
        guard !data.isEmpty else { throw ImageIOError(.unknownFormat, path: path, reason: "empty file") }
        var raw = ic_image()
        let status: Int32 = data.withUnsafeBytes { bytes in
            let base = bytes.bindMemory(to: UInt8.self).baseAddress!
            switch format {
            case .jpeg: return ic_decode_jpeg(base, bytes.count, &raw)
            case .png: return ic_decode_png(base, bytes.count, &raw)
            }
        }
        defer { ic_image_free(&raw) }
        guard status == 0 else {
            let message = withUnsafeBytes(of: &raw.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            switch Int(raw.failure) {
            case Int(IC_FAILURE_TOO_LARGE): throw ImageIOError(.tooLarge, path: path, reason: "\(format.rawValue) image too large: \(message)")
            case Int(IC_FAILURE_OUT_OF_MEMORY): throw ImageIOError(.outOfMemory, path: path, reason: "decoding the \(format.rawValue) image: \(message)")
            default: throw ImageIOError(.corrupt, path: path, reason: "corrupt or truncated \(format.rawValue) data: \(message)")
            }
        }
        return DecodedImage(copying: raw, format: format)
    }

    private init(copying raw: ic_image, format: ImageFileFormat) {
        self.format = format
        width = Int(raw.width)
        height = Int(raw.height)
        channels = Int(raw.channels)
        sourceBitDepth = Int(raw.source_bit_depth)
        orientation = Int(raw.orientation)
        let count = width * height * channels
        if raw.bit_depth == 16 {
            samples8 = []
            samples16 = raw.pixels.withMemoryRebound(to: UInt16.self, capacity: count) {
                Array(UnsafeBufferPointer(start: $0, count: count))
            }
        } else {
            samples8 = Array(UnsafeBufferPointer(start: raw.pixels, count: count))
            samples16 = []
        }
        if let indices = raw.indices, let colours = raw.palette {
            paletteIndices = Array(UnsafeBufferPointer(start: indices, count: width * height))
            palette = (0..<Int(raw.palette_count)).map { i in
                Array(UnsafeBufferPointer(start: colours + 3 * i, count: 3))
            }
        } else {
            paletteIndices = nil
            palette = nil
        }
    }
}
