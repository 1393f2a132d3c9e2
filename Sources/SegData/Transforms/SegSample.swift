/// An image with its label map, as it moves through the 8-bit stage of a pipeline.
public struct SegSample: Sendable, Equatable {
    public var image: Image
    public var label: LabelMap

    public init(image: Image, label: LabelMap) {
        precondition(image.width == label.width && image.height == label.height,
                     "SegSample: image \(image.width)x\(image.height) and label \(label.width)x\(label.height) differ in size")
        self.image = image
        self.label = label
    }
}

/// A normalised float image, channels first (CHW), as the model consumes it.
public struct NormalizedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// `channels * height * width` values, channel planes one after the other.
    public var values: [Float]

    public init(width: Int, height: Int, channels: Int, values: [Float]) {
        precondition(values.count == width * height * channels, "NormalizedImage: value count does not match \(channels)x\(height)x\(width)")
        self.width = width
        self.height = height
        self.channels = channels
        self.values = values
    }
}
