import Foundation

/// Reading and writing images and label maps (JPEG and PNG, through libjpeg-turbo and libpng).
/// Formats are told by the files' first bytes, not their extensions. Every failure is an
/// `ImageIOError` naming the file; no input can crash the process.
public enum ImageIO {
    /// Reads a JPEG or PNG as an 8-bit image: RGB, or gray when `keepGray` is set and the file is
    /// gray. Alpha is dropped, 16-bit samples are scaled to 8 bits, palette PNGs give their
    /// colours, and a JPEG's EXIF orientation is applied (so width and height may be swapped).
    public static func readImage(_ url: URL, keepGray: Bool = false) throws -> Image {
        let (data, format) = try ImageFileFormat.readFileAndFormat(url)
        return try DecodedImage.decode(data, format: format, path: url.path).image(keepGray: keepGray)
    }

    /// Reads a label PNG's raw values: palette indices (not colours) for palette PNGs, sample
    /// values for 8-bit and 16-bit gray PNGs (1/2/4-bit gray unscaled). RGB(A), gray+alpha and
    /// JPEG files throw.
    public static func readLabelValues(_ url: URL) throws -> (width: Int, height: Int, values: [UInt16]) {
        let (data, format) = try ImageFileFormat.readFileAndFormat(url)
        let decoded = try DecodedImage.decode(data, format: format, path: url.path)
        return (decoded.width, decoded.height, try decoded.labelValues(path: url.path))
    }

    /// Reads a label PNG as a `LabelMap` (255 = ignore). A 16-bit file with a value above 255
    /// throws, naming the value and its pixel: remap such files with `readLabelValues` first.
    public static func readLabelMap(_ url: URL) throws -> LabelMap {
        let (width, height, values) = try readLabelValues(url)
        var labels = [UInt8](repeating: 0, count: values.count)
        for (i, value) in values.enumerated() {
            guard value <= 255 else {
                throw ImageIOError(.labelValueOutOfRange, path: url.path,
                                   reason: "label value \(value) at pixel (x: \(i % width), y: \(i / width)) does not fit a label map (0...255, 255 = ignore); map the values with readLabelValues")
            }
            labels[i] = UInt8(value)
        }
        return LabelMap(width: width, height: height, labels: labels)
    }
}
