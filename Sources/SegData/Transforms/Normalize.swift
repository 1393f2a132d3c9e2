/// Per-channel `(x - mean) / std` into a float CHW image (mmseg's data preprocessor, RGB order).
public struct Normalize: Sendable {
    public var mean: [Float]
    public var std: [Float]

    /// ImageNet statistics on 0-255 RGB, as every official SegFormer/LRFormer config uses.
    public static let imagenet = Normalize(mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375])

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty, "Normalize: mean and std need the same, non-zero length")
        self.mean = mean
        self.std = std
    }

    /// A gray image uses the first channel's statistics.
    public func apply(_ image: Image) -> NormalizedImage {
        let cn = image.channels, plane = image.width * image.height
        var out = [Float](repeating: 0, count: plane * cn)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<cn {
                    let m = mean[min(c, mean.count - 1)], s = std[min(c, std.count - 1)]
                    let base = c * plane
                    for i in 0..<plane { dst[base + i] = (Float(src[i * cn + c]) - m) / s }
                }
            }
        }
        return NormalizedImage(width: image.width, height: image.height, channels: cn, values: out)
    }
}
