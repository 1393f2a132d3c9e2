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
