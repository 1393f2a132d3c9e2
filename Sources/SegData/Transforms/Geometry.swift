// Crop, flip and pad on the host types. Bounds are clamped the way numpy slicing clamps them,
// since mmseg's RandomCrop relies on that when the image is smaller than the crop.

extension Image {
    /// The part of the image inside the rectangle, clamped to the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        let x0 = min(max(x, 0), width), y0 = min(max(y, 0), height)
        let x1 = min(max(x + w, x0), width), y1 = min(max(y + h, y0), height)
        let cw = x1 - x0, ch = y1 - y0
        var out = [UInt8](repeating: 0, count: cw * ch * channels)
        let rowBytes = cw * channels
        for row in 0..<ch where rowBytes > 0 {
            let s = ((y0 + row) * width + x0) * channels, d = row * rowBytes
            out.replaceSubrange(d..<(d + rowBytes), with: pixels[s..<(s + rowBytes)])
        }
        return Image(width: cw, height: ch, channels: channels, pixels: out)
    }

    /// Mirrored left-right.
    public func flippedHorizontally() -> Image {
        var out = pixels
        let c = channels
        for row in 0..<height {
            let base = row * width * c
            for col in 0..<width {
                let s = base + (width - 1 - col) * c, d = base + col * c
                for k in 0..<c { out[d + k] = pixels[s + k] }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// Padded at the bottom and right to at least `height` x `width` with `value`; never cropped.
    public func padded(toHeight targetHeight: Int, width targetWidth: Int, value: UInt8 = 0) -> Image {
        let w = max(width, targetWidth), h = max(height, targetHeight)
        if w == width && h == height { return self }
        var out = [UInt8](repeating: value, count: w * h * channels)
        let rowBytes = width * channels
        for row in 0..<height {
            let s = row * rowBytes, d = row * w * channels
            out.replaceSubrange(d..<(d + rowBytes), with: pixels[s..<(s + rowBytes)])
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }

    /// A 3-channel copy of a gray image (the gray value repeated); colour images are returned as they are.
    public func rgb() -> Image {
        guard channels == 1 else { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = pixels[i]
            out[3 * i] = v
            out[3 * i + 1] = v
            out[3 * i + 2] = v
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }
}

extension LabelMap {
    /// The part of the map inside the rectangle, clamped to the map.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> LabelMap {
        let asImage = Image(width: width, height: height, channels: 1, pixels: labels).cropped(x: x, y: y, width: w, height: h)
        return LabelMap(width: asImage.width, height: asImage.height, labels: asImage.pixels)
    }

    /// Mirrored left-right.
    public func flippedHorizontally() -> LabelMap {
        let flipped = Image(width: width, height: height, channels: 1, pixels: labels).flippedHorizontally()
        return LabelMap(width: width, height: height, labels: flipped.pixels)
    }

    /// Padded at the bottom and right to at least `height` x `width` with `value` (ignore by default).
    public func padded(toHeight targetHeight: Int, width targetWidth: Int, value: UInt8 = LabelMap.ignoreIndex) -> LabelMap {
        let p = Image(width: width, height: height, channels: 1, pixels: labels).padded(toHeight: targetHeight, width: targetWidth, value: value)
        return LabelMap(width: p.width, height: p.height, labels: p.pixels)
    }
}

extension NormalizedImage {
    /// Padded at the bottom and right to at least `height` x `width` with `value`; never cropped.
    /// mmseg pads after normalising, so the image pad value 0 is 0 in normalised units.
    public func padded(toHeight targetHeight: Int, width targetWidth: Int, value: Float = 0) -> NormalizedImage {
        let w = max(width, targetWidth), h = max(height, targetHeight)
        if w == width && h == height { return self }
        var out = [Float](repeating: value, count: w * h * channels)
        for c in 0..<channels {
            for row in 0..<height {
                let s = (c * height + row) * width, d = (c * h + row) * w
                out.replaceSubrange(d..<(d + width), with: values[s..<(s + width)])
            }
        }
        return NormalizedImage(width: w, height: h, channels: channels, values: out)
    }
}
