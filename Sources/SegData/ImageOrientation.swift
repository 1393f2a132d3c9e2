extension Image {
    /// The image as a viewer shows it, given its EXIF orientation (1...8; other values leave it
    /// unchanged). Orientations 5...8 swap width and height; 6 is "rotate 90° clockwise".
    public func applyingEXIFOrientation(_ orientation: Int) -> Image {
        guard (2...8).contains(orientation) else { return self }
        let swapsAxes = orientation >= 5
        let outWidth = swapsAxes ? height : width
        let outHeight = swapsAxes ? width : height
        let (w, h) = (width, height)
        // Source (x, y) of output pixel (ox, oy), per the EXIF/TIFF definition.
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { ox, oy in (w - 1 - ox, oy) }            // mirror horizontally
        case 3: source = { ox, oy in (w - 1 - ox, h - 1 - oy) }    // rotate 180°
        case 4: source = { ox, oy in (ox, h - 1 - oy) }            // mirror vertically
        case 5: source = { ox, oy in (oy, ox) }                    // transpose
        case 6: source = { ox, oy in (oy, h - 1 - ox) }            // rotate 90° clockwise
        case 7: source = { ox, oy in (w - 1 - oy, h - 1 - ox) }    // transverse
        default: source = { ox, oy in (w - 1 - oy, ox) }           // 8: rotate 90° counter-clockwise
        }
        var out = [UInt8](repeating: 0, count: pixels.count)
        let c = channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        let (sx, sy) = source(ox, oy)
                        let s = (sy * w + sx) * c
                        let d = (oy * outWidth + ox) * c
                        for k in 0..<c { dst[d + k] = src[s + k] }
                    }
                }
            }
        }
        return Image(width: outWidth, height: outHeight, channels: c, pixels: out)
    }
}
