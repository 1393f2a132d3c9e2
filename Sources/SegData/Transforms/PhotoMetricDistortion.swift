/// mmseg's `PhotoMetricDistortion`, applied to the image only, in mmseg's order:
/// brightness; contrast now (mode 1) or last (mode 0); saturation; hue. Each step happens with
/// probability 1/2. Arithmetic follows mmseg: float32 `x * alpha + beta`, clipped to [0, 255],
/// truncated to uint8; saturation and hue go through OpenCV's 8-bit HSV.
public struct PhotoMetricDistortion: Sendable {
    public var brightnessDelta: Int
    public var contrastRange: ClosedRange<Double>
    public var saturationRange: ClosedRange<Double>
    public var hueDelta: Int

    public init(brightnessDelta: Int = 32, contrastRange: ClosedRange<Double> = 0.5...1.5,
                saturationRange: ClosedRange<Double> = 0.5...1.5, hueDelta: Int = 18) {
        self.brightnessDelta = brightnessDelta
        self.contrastRange = contrastRange
        self.saturationRange = saturationRange
        self.hueDelta = hueDelta
    }

    public func apply<G: RandomNumberGenerator>(_ image: Image, using rng: inout G) -> Image {
        var img = image
        if rng.integer(below: 2) == 1 {
            let delta = Double(brightnessDelta)
            img = Self.affine(img, alpha: 1, beta: Float(rng.uniform(-delta, delta)))
        }
        let contrastFirst = rng.integer(below: 2) == 1
        if contrastFirst { img = contrast(img, using: &rng) }
        // HSV steps need colour; a gray image only gets brightness and contrast.
        if img.channels == 3 {
            if rng.integer(below: 2) == 1 {
                let alpha = Float(rng.uniform(saturationRange.lowerBound, saturationRange.upperBound))
                img = Self.mapHSV(img) { h, s, v in (h, Self.scaled(s, alpha: alpha), v) }
            }
            if rng.integer(below: 2) == 1 {
                // numpy randint(-d, d): the upper end is excluded.
                let shift = rng.integer(from: -hueDelta, below: hueDelta)
                img = Self.mapHSV(img) { h, s, v in (UInt8(((Int(h) + shift) % 180 + 180) % 180), s, v) }
            }
        }
        if !contrastFirst { img = contrast(img, using: &rng) }
        return img
    }

    public func apply<G: RandomNumberGenerator>(_ sample: SegSample, using rng: inout G) -> SegSample {
        SegSample(image: apply(sample.image, using: &rng), label: sample.label)
    }

    private func contrast<G: RandomNumberGenerator>(_ image: Image, using rng: inout G) -> Image {
        guard rng.integer(below: 2) == 1 else { return image }
        let alpha = Float(rng.uniform(contrastRange.lowerBound, contrastRange.upperBound))
        return Self.affine(image, alpha: alpha, beta: 0)
    }

    @inline(__always)
    static func scaled(_ x: UInt8, alpha: Float, beta: Float = 0) -> UInt8 {
        let y = Float(x) * alpha + beta
        return UInt8(min(max(y, 0), 255))  // clip, then truncate as numpy's astype(uint8)
    }

    static func affine(_ image: Image, alpha: Float, beta: Float) -> Image {
        // A 256-entry table: the same per-value result, computed once.
        let table = (0..<256).map { scaled(UInt8($0), alpha: alpha, beta: beta) }
        var out = image
        out.pixels = image.pixels.map { table[Int($0)] }
        return out
    }

    static func mapHSV(_ image: Image, _ change: (UInt8, UInt8, UInt8) -> (UInt8, UInt8, UInt8)) -> Image {
        var out = image.pixels
        for i in stride(from: 0, to: out.count, by: 3) {
            let hsv = ColorHSV.hsv(r: out[i], g: out[i + 1], b: out[i + 2])
            let changed = change(hsv.h, hsv.s, hsv.v)
            let rgb = ColorHSV.rgb(h: changed.0, s: changed.1, v: changed.2)
            out[i] = rgb.r
            out[i + 1] = rgb.g
            out[i + 2] = rgb.b
        }
        return Image(width: image.width, height: image.height, channels: 3, pixels: out)
    }
}
