/// Pads at the bottom and right up to `size` (never crops): images with `imageValue`, labels with
/// `labelValue` (ignore). mmseg pads after normalising, so `apply(image:label:)` on a normalised image
/// pads with 0 in normalised units, which is what the official pipelines feed the model.
public struct Pad: Sendable {
    public var size: (height: Int, width: Int)
    public var imageValue: Float
    public var labelValue: UInt8

    public init(size: (height: Int, width: Int), imageValue: Float = 0, labelValue: UInt8 = LabelMap.ignoreIndex) {
        self.size = size
        self.imageValue = imageValue
        self.labelValue = labelValue
    }

    /// The 8-bit stage (image value clamped to 0...255).
    public func apply(_ sample: SegSample) -> SegSample {
        let fill = UInt8(clamping: Int(imageValue.rounded()))
        return SegSample(image: sample.image.padded(toHeight: size.height, width: size.width, value: fill),
                         label: sample.label.padded(toHeight: size.height, width: size.width, value: labelValue))
    }

    /// The normalised stage.
    public func apply(image: NormalizedImage, label: LabelMap) -> (image: NormalizedImage, label: LabelMap) {
        (image.padded(toHeight: size.height, width: size.width, value: imageValue),
         label.padded(toHeight: size.height, width: size.width, value: labelValue))
    }
}
