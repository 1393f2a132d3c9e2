/// Turning decoded samples into SwiftSeg's 8-bit `Image` and into label values.
extension DecodedImage {
    /// 8-bit samples for display: 16-bit scaled by 255/65535 (rounded, so 65535 -> 255 and
    /// 257 -> 1), 1/2/4-bit gray stretched to 0...255, 8-bit unchanged.
    var displaySamples: [UInt8] {
        if !samples16.isEmpty {
            return samples16.map { UInt8((UInt32($0) * 255 + 32767) / 65535) }
        }
        if sourceBitDepth < 8 && !isPalette {
            let scale = UInt8(255 / ((1 << sourceBitDepth) - 1))
            return samples8.map { $0 &* scale }
        }
        return samples8
    }

    /// An RGB (or, with `keepGray`, gray for gray sources) image with alpha dropped and the
    /// EXIF orientation applied.
    func image(keepGray: Bool) -> Image {
        let samples = displaySamples
        let pixelCount = width * height
        let isGray = channels <= 2
        let outChannels = isGray && keepGray ? 1 : 3
        var pixels = [UInt8](repeating: 0, count: pixelCount * outChannels)
        samples.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for p in 0..<pixelCount {
                    let s = p * channels
                    if outChannels == 1 {
                        dst[p] = src[s]
                    } else if isGray {
                        dst[3 * p] = src[s]; dst[3 * p + 1] = src[s]; dst[3 * p + 2] = src[s]
                    } else {
                        dst[3 * p] = src[s]; dst[3 * p + 1] = src[s + 1]; dst[3 * p + 2] = src[s + 2]
                    }
                }
            }
        }
        let image = Image(width: width, height: height, channels: outChannels, pixels: pixels)
        return image.applyingEXIFOrientation(orientation)
    }

    /// Label values: palette indices for palette PNGs, sample values for gray PNGs.
    /// Anything else is refused, naming the file, because colour-coded labels need a mapping
    /// only the caller knows.
    func labelValues(path: String) throws -> [UInt16] {
        if format != .png {
            throw ImageIOError(.unsupported, path: path, reason: "label maps must be PNG files (lossy \(format.rawValue) changes label values)")
        }
        if let indices = paletteIndices { return indices.map { UInt16($0) } }
        switch channels {
        case 1:
            return samples16.isEmpty ? samples8.map { UInt16($0) } : samples16
        case 2:
            throw ImageIOError(.unsupported, path: path, reason: "label PNG has gray+alpha; expected one channel (gray or palette) of class indices")
        default:
            throw ImageIOError(.unsupported, path: path,
                               reason: "label PNG is \(channels == 3 ? "RGB" : "RGBA"); expected one channel (gray or palette) of class indices. Convert colour-coded labels to indices first")
        }
    }
}
