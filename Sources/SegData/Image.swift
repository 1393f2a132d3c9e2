/// An 8-bit image in host memory, row-major, channels interleaved (HWC). RGB order for colour images.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (gray) or 3 (RGB).
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "Image: pixel count does not match \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels, pixels: [UInt8](repeating: fill, count: width * height * channels))
    }

    /// The most bytes of samples an image may hold: what the JPEG and PNG decoders accept (IC_MAX_IMAGE_BYTES), so
    /// that every image SwiftSeg makes (synthetic, resized) can be written and read back.
    public static let maxBytes = 1 << 31

    /// Why an image of `height` x `width` with `channels` samples a pixel is too large to make, or nil. Sizes come
    /// from users (`synth --size`, crops, test scales): checked before anything is allocated.
    public static func sizeProblem(height: Int, width: Int, channels: Int = 3) -> String? {
        guard height > 0, width > 0 else { return "\(height)x\(width) is empty" }
        let (pixels, overflow) = height.multipliedReportingOverflow(by: width)
        let (bytes, overflow2) = pixels.multipliedReportingOverflow(by: channels)
        guard !overflow, !overflow2, bytes <= maxBytes else {
            return "\(height)x\(width) is larger than the largest image SwiftSeg reads or writes "
                + "(\(maxBytes >> 20) MiB of samples, about \(Int(Double(maxBytes / channels).squareRoot()))x\(Int(Double(maxBytes / channels).squareRoot())) with \(channels) channels)"
        }
        return nil
    }
}

/// A label map: one class index per pixel, row-major. 255 means "ignore" throughout SwiftSeg.
public struct LabelMap: Sendable, Equatable {
    public static let ignoreIndex: UInt8 = 255

    public var width: Int
    public var height: Int
    public var labels: [UInt8]

    public init(width: Int, height: Int, labels: [UInt8]) {
        precondition(labels.count == width * height, "LabelMap: label count does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.labels = labels
    }

    public init(width: Int, height: Int, fill: UInt8 = 0) {
        self.init(width: width, height: height, labels: [UInt8](repeating: fill, count: width * height))
    }
}
