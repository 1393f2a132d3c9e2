/// The class names of a segmentation dataset and a colour per class for overlays and palette PNGs.
/// Built-in tables (`ade20k`, `cityscapes`, `cocoStuff`) copy mmsegmentation's, so names and colours
/// match what its users and checkpoints expect.
public struct DatasetClasses: Sendable, Equatable {
    public let names: [String]
    /// One RGB triple per class.
    public let palette: [[UInt8]]

    public var count: Int { names.count }

    /// Classes with the given palette, or `defaultPalette(count:)` when there is none.
    /// A palette must have one RGB triple per name (check user-supplied palettes before calling).
    public init(names: [String], palette: [[UInt8]]? = nil) {
        let palette = palette ?? Self.defaultPalette(count: names.count)
        precondition(palette.count == names.count && palette.allSatisfy { $0.count == 3 },
                     "DatasetClasses: \(names.count) names need \(names.count) RGB palette entries, got \(palette.count)")
        self.names = names
        self.palette = palette
    }

    /// Deterministic, pairwise distinct colours for datasets without a published palette: the
    /// Pascal VOC colour map (bits of the index spread over R, G and B, high bits first), starting
    /// at entry 1 so that no class is black. Distinct for up to 2^24 - 1 classes.
    public static func defaultPalette(count: Int) -> [[UInt8]] {
        (0..<max(count, 0)).map { index in
            var code = index + 1
            var rgb: [UInt8] = [0, 0, 0]
            for bit in 0..<8 {
                for channel in 0..<3 {
                    rgb[channel] |= UInt8((code >> channel) & 1) << (7 - bit)
                }
                code >>= 3
            }
            return rgb
        }
    }
}
