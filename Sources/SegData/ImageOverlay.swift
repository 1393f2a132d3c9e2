extension ImageIO {
    /// Blends each label's palette colour over the image: `out = image * (1 - opacity) + colour * opacity`,
    /// rounded to the nearest integer (mmsegmentation truncates; rounding keeps opacity 0.5 symmetric).
    /// Ignore pixels (255) and labels without a palette entry keep the image. A gray image gives RGB.
    /// The label map must have the image's size (a programmer error otherwise, as for array indexing).
    public static func overlay(image: Image, labels: LabelMap, palette: [[UInt8]], opacity: Double) -> Image {
        precondition(image.width == labels.width && image.height == labels.height,
                     "overlay: image is \(image.width)x\(image.height) but labels are \(labels.width)x\(labels.height)")
        let alpha = min(max(opacity, 0), 1)
        let pixelCount = image.width * image.height
        var out = [UInt8](repeating: 0, count: pixelCount * 3)
        let c = image.channels
        for p in 0..<pixelCount {
            let label = Int(labels.labels[p])
            let colour: [UInt8]? = label != Int(LabelMap.ignoreIndex) && label < palette.count && palette[label].count >= 3 ? palette[label] : nil
            for k in 0..<3 {
                let base = Double(image.pixels[p * c + (c == 1 ? 0 : k)])
                guard let colour else {
                    out[3 * p + k] = UInt8(base)
                    continue
                }
                out[3 * p + k] = UInt8((base * (1 - alpha) + Double(colour[k]) * alpha).rounded())
            }
        }
        return Image(width: image.width, height: image.height, channels: 3, pixels: out)
    }
}
