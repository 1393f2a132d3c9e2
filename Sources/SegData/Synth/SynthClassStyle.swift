import Foundation

/// How one synthetic class looks: a base colour, a texture that modulates it along a colour
/// direction, and a preferred silhouette. Colours of some classes are close on purpose (bush vs ground,
/// stone vs sign vs sky) so that a model must use texture and shape too, not only the mean colour.
struct SynthClassStyle {
    enum Shape {
        case circle, rectangle, triangle, blob
        static let all: [Shape] = [.circle, .rectangle, .triangle, .blob]
    }

    var name: String
    /// Colour for overlays (synth_classes.json palette).
    var palette: [UInt8]
    var base: SIMD3<Float>
    /// The colour added at texture value +1 (subtracted at -1).
    var contrast: SIMD3<Float>
    /// Draws the texture of one region or object.
    var texture: (inout SplitMix64, _ sceneSize: Float) -> SynthTexture
    /// Drawn with probability 0.65, otherwise any shape; nil: any shape.
    var preferredShape: Shape?

    /// Classes in label order: annotation value = index + 1 (0 = "other", ignored after reduce_zero_label).
    /// The first two are the backgrounds (above and below the horizon), the rest are objects.
    static let all: [SynthClassStyle] = [
        SynthClassStyle(name: "sky", palette: [70, 130, 180], base: [125, 170, 225], contrast: [22, 18, 8],
                        texture: { rng, size in .noise(cell: size / Float(rng.uniform(4, 8)), seed: UInt32(truncatingIfNeeded: rng.next())) },
                        preferredShape: nil),
        SynthClassStyle(name: "ground", palette: [140, 160, 60], base: [115, 130, 72], contrast: [28, 28, 18],
                        texture: { rng, _ in .stripes(period: Float(rng.uniform(5, 10)), angle: Float(rng.uniform(1.3, 1.85))) },
                        preferredShape: nil),
        SynthClassStyle(name: "ball", palette: [220, 20, 60], base: [205, 78, 62], contrast: [40, 36, 34],
                        texture: { rng, _ in .checker(cell: Float(rng.uniform(2.5, 5)), angle: Float(rng.uniform(0, 1.57))) },
                        preferredShape: .circle),
        SynthClassStyle(name: "box", palette: [160, 100, 40], base: [165, 115, 70], contrast: [30, 22, 14],
                        texture: { rng, _ in .stripes(period: Float(rng.uniform(2.5, 4.5)), angle: Float(rng.uniform(0, 3.14))) },
                        preferredShape: .rectangle),
        SynthClassStyle(name: "tent", palette: [250, 210, 30], base: [215, 190, 88], contrast: [30, 28, 12],
                        texture: { rng, _ in .stripes(period: Float(rng.uniform(6, 10)), angle: Float(rng.uniform(0.6, 0.9))) },
                        preferredShape: .triangle),
        SynthClassStyle(name: "bush", palette: [30, 110, 30], base: [78, 120, 62], contrast: [30, 40, 24],
                        texture: { rng, _ in .noise(cell: Float(rng.uniform(1.5, 3)), seed: UInt32(truncatingIfNeeded: rng.next())) },
                        preferredShape: .blob),
        SynthClassStyle(name: "sign", palette: [230, 230, 240], base: [190, 192, 205], contrast: [45, 45, 45],
                        texture: { rng, _ in .dots(period: Float(rng.uniform(4, 6)), radius: Float(rng.uniform(1, 1.8))) },
                        preferredShape: nil),
        SynthClassStyle(name: "stone", palette: [110, 110, 120], base: [132, 130, 138], contrast: [26, 26, 28],
                        texture: { rng, _ in .noise(cell: Float(rng.uniform(3, 7)), seed: UInt32(truncatingIfNeeded: rng.next())) },
                        preferredShape: nil),
    ]
}
