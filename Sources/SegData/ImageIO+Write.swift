import CImageCodecs
import Foundation
import TorchIO

extension ImageIO {
    /// Writes an 8-bit gray or RGB PNG.
    public static func writePNG(_ image: Image, to url: URL) throws {
        guard image.channels == 1 || image.channels == 3 else {
            throw ImageIOError(.invalidArgument, path: url.path, reason: "cannot write a \(image.channels)-channel image as PNG (1 or 3 channels)")
        }
        let png = try encodePNG(image.pixels, width: image.width, height: image.height, channels: image.channels, palette: nil, path: url.path)
        try write(png, to: url)
    }

    /// Writes a label map as a palette PNG (indices stored, colours for viewing) when a palette is
    /// given, else as 8-bit gray. The palette is padded with black up to the largest label, so
    /// labels without a colour (255 = ignore) still round-trip.
    public static func writeLabelPNG(_ labels: LabelMap, palette: [[UInt8]]?, to url: URL) throws {
        var flatPalette: [UInt8]? = nil
        if let palette {
            if let bad = palette.firstIndex(where: { $0.count != 3 }) {
                throw ImageIOError(.invalidArgument, path: url.path, reason: "palette entry \(bad) has \(palette[bad].count) components, expected 3 (RGB)")
            }
            guard palette.count <= 256 else {
                throw ImageIOError(.invalidArgument, path: url.path, reason: "palette has \(palette.count) entries; a PNG palette holds at most 256")
            }
            let needed = Int(labels.labels.max() ?? 0) + 1
            flatPalette = palette.flatMap { $0 } + [UInt8](repeating: 0, count: 3 * max(0, needed - palette.count))
        }
        let png = try encodePNG(labels.labels, width: labels.width, height: labels.height, channels: 1, palette: flatPalette, path: url.path)
        try write(png, to: url)
    }

    private static func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int, palette: [UInt8]?, path: String) throws -> Data {
        var buffer = ic_buffer()
        defer { ic_buffer_free(&buffer) }
        let status: Int32 = pixels.withUnsafeBufferPointer { pixelBuffer in
            guard let palette else {
                return ic_encode_png(pixelBuffer.baseAddress, Int32(width), Int32(height), Int32(channels), nil, 0, &buffer)
            }
            return palette.withUnsafeBufferPointer { paletteBuffer in
                ic_encode_png(pixelBuffer.baseAddress, Int32(width), Int32(height), Int32(channels),
                              paletteBuffer.baseAddress, Int32(palette.count / 3), &buffer)
            }
        }
        guard status == 0, let bytes = buffer.data else {
            let message = withUnsafeBytes(of: &buffer.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw ImageIOError(.invalidArgument, path: path, reason: "cannot encode PNG: \(message)")
        }
        return Data(bytes: bytes, count: buffer.size)
    }

    private static func write(_ data: Data, to url: URL) throws {
        if let problem = FileAccess.replaceProblem(url) { throw ImageIOError(.writeFailed, path: url.path, reason: "cannot write: \(problem)") }
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ImageIOError(.writeFailed, path: url.path, reason: "cannot write: \(FileAccess.reason(error))")
        }
    }
}
