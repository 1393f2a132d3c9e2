import Foundation

/// Renders one procedural scene: sky above a wavy horizon, ground below, then objects back to front
/// (so later ones occlude earlier ones), a vertical lighting gradient and per-pixel noise.
/// Labels are annotation values: 0 = other (unlabelled clutter), 1...K = `SynthClassStyle.all`.
struct SynthScene {
    let width: Int
    let height: Int

    private var pixels: [UInt8]
    private var labels: [UInt8]
    private var rng: SplitMix64
    private let noiseSeed: UInt32
    private let brightness: Float
    private let lightGradient: Float

    static let skyClass = 0, groundClass = 1
    static var objectClasses: [Int] { Array(2..<SynthClassStyle.all.count) }

    /// A scene whose frontmost object is of `featuredClass` (an index into `SynthClassStyle.all`),
    /// so that a set of scenes can be made to contain every class.
    static func render(width: Int, height: Int, rng: SplitMix64, featuredClass: Int) -> (Image, LabelMap) {
        var scene = SynthScene(width: width, height: height, rng: rng)
        scene.drawBackground()
        scene.drawObjects(featuredClass: featuredClass)
        return (Image(width: width, height: height, channels: 3, pixels: scene.pixels),
                LabelMap(width: width, height: height, labels: scene.labels))
    }

    private init(width: Int, height: Int, rng: SplitMix64) {
        self.width = width
        self.height = height
        var rng = rng
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        labels = [UInt8](repeating: 0, count: width * height)
        noiseSeed = UInt32(truncatingIfNeeded: rng.next())
        brightness = Float(rng.uniform(0.72, 1.25))
        lightGradient = Float(rng.uniform(-0.25, 0.25))
        self.rng = rng
    }

    private var sceneSize: Float { Float(min(width, height)) }

    // MARK: Background

    private mutating func drawBackground() {
        let w = Float(width), h = Float(height)
        let base = h * Float(rng.uniform(0.3, 0.62))
        let waves = (0..<2).map { i in
            (amplitude: h * Float(rng.uniform(0.02, 0.07)) / Float(i + 1),
             frequency: 2 * Float.pi * Float(rng.uniform(0.6, 2.5)) * Float(i + 1) / w,
             phase: Float(rng.uniform(0, 6.283)))
        }
        let skyLook = look(of: Self.skyClass, jitter: 12)
        let groundLook = look(of: Self.groundClass, jitter: 12)
        for x in 0..<width {
            let fx = Float(x) + 0.5
            var horizon = base
            for wave in waves { horizon += wave.amplitude * sin(wave.frequency * fx + wave.phase) }
            for y in 0..<height {
                let isSky = Float(y) + 0.5 < horizon
                paint(x: x, y: y, look: isSky ? skyLook : groundLook, label: UInt8((isSky ? Self.skyClass : Self.groundClass) + 1))
            }
        }
    }

    // MARK: Objects

    private mutating func drawObjects(featuredClass: Int) {
        let count = 3 + rng.integer(below: 6)
        for _ in 0..<count {
            let cls = Self.objectClasses[rng.integer(below: Self.objectClasses.count)]
            drawObject(of: cls, minRadius: 2.5, anywhere: true)
            // Unlabelled clutter now and then: annotation 0, ignored after reduce_zero_label.
            if rng.chance(0.12) { drawClutter() }
        }
        drawObject(of: featuredClass, minRadius: max(2.5, 0.1 * sceneSize), anywhere: false)
    }

    private mutating func drawObject(of cls: Int, minRadius: Float, anywhere: Bool) {
        let style = SynthClassStyle.all[cls]
        let maxRadius = max(minRadius + 0.5, 0.28 * sceneSize)
        // Log-uniform sizes: many small objects, a few large ones.
        let r = Float(exp(rng.uniform(log(Double(minRadius)), log(Double(maxRadius)))))
        let margin: Float = anywhere ? 0 : r * 0.6
        let cx = Float(rng.uniform(Double(margin), Double(Float(width) - margin)))
        let cy = Float(rng.uniform(Double(margin), Double(Float(height) - margin)))
        var shape = style.preferredShape ?? SynthClassStyle.Shape.all[rng.integer(below: 4)]
        if style.preferredShape != nil && !rng.chance(0.65) {
            shape = SynthClassStyle.Shape.all[rng.integer(below: 4)]
        }
        let silhouette = makeShape(shape, cx: cx, cy: cy, r: r)
        fill(silhouette, look: look(of: cls, jitter: 20), label: UInt8(cls + 1))
    }

    private mutating func drawClutter() {
        let r = Float(rng.uniform(2, Double(max(2.5, 0.12 * sceneSize))))
        let cx = Float(rng.uniform(0, Double(width))), cy = Float(rng.uniform(0, Double(height)))
        let colour = SIMD3<Float>(Float(rng.uniform(30, 230)), Float(rng.uniform(30, 230)), Float(rng.uniform(30, 230)))
        let texture = SynthTexture.noise(cell: Float(rng.uniform(1.5, 6)), seed: UInt32(truncatingIfNeeded: rng.next()))
        let shape = makeShape(SynthClassStyle.Shape.all[rng.integer(below: 4)], cx: cx, cy: cy, r: r)
        fill(shape, look: Look(base: colour, contrast: [30, 30, 30], texture: texture), label: 0)
    }

    private mutating func makeShape(_ kind: SynthClassStyle.Shape, cx: Float, cy: Float, r: Float) -> SynthShape {
        switch kind {
        case .circle:
            return .circle(cx: cx, cy: cy, r: r)
        case .rectangle:
            let aspect = Float(rng.uniform(0.45, 1.6))
            return .rectangle(cx: cx, cy: cy, hw: r * aspect.squareRoot(), hh: r / aspect.squareRoot(), angle: Float(rng.uniform(-0.5, 0.5)))
        case .triangle:
            let start = Float(rng.uniform(0, 6.283))
            let corners = (0..<3).map { i -> SIMD2<Float> in
                let a = start + Float(i) * 2.094 + Float(rng.uniform(-0.35, 0.35))
                let d = r * Float(rng.uniform(0.8, 1.25))
                return SIMD2(cx + d * cos(a), cy + d * sin(a))
            }
            return .triangle(corners[0], corners[1], corners[2])
        case .blob:
            let harmonics = [2, 3, 5].map { k in
                (k: Float(k), amplitude: Float(rng.uniform(0.04, 0.15)), phase: Float(rng.uniform(0, 6.283)))
            }
            return .blob(cx: cx, cy: cy, r: r, harmonics: harmonics)
        }
    }

    // MARK: Painting

    /// The appearance of one region or object.
    struct Look {
        var base: SIMD3<Float>
        var contrast: SIMD3<Float>
        var texture: SynthTexture
    }

    private mutating func look(of cls: Int, jitter: Double) -> Look {
        let style = SynthClassStyle.all[cls]
        let shift = SIMD3<Float>(Float(rng.uniform(-jitter, jitter)), Float(rng.uniform(-jitter, jitter)), Float(rng.uniform(-jitter, jitter)))
        let strength = Float(rng.uniform(0.7, 1.3))
        return Look(base: style.base + shift, contrast: style.contrast * strength, texture: style.texture(&rng, sceneSize))
    }

    private mutating func fill(_ shape: SynthShape, look: Look, label: UInt8) {
        let (bx0, by0, bx1, by1) = shape.bounds
        let x0 = max(bx0, 0), y0 = max(by0, 0), x1 = min(bx1, width), y1 = min(by1, height)
        guard x0 < x1 && y0 < y1 else { return }
        for y in y0..<y1 {
            for x in x0..<x1 where shape.contains(x: Float(x) + 0.5, y: Float(y) + 0.5) {
                paint(x: x, y: y, look: look, label: label)
            }
        }
    }

    @inline(__always)
    private mutating func paint(x: Int, y: Int, look: Look, label: UInt8) {
        let t = look.texture.value(x: Float(x), y: Float(y))
        let light = brightness * (1 + lightGradient * (Float(y) / Float(height) - 0.5))
        let grain = SynthTexture.unit(SynthTexture.hash(Int32(x), Int32(y), noiseSeed)) * 12 - 6
        let colour = (look.base + look.contrast * t) * light + SIMD3(repeating: grain)
        let i = y * width + x
        pixels[3 * i] = UInt8(clamping: Int(colour.x.rounded()))
        pixels[3 * i + 1] = UInt8(clamping: Int(colour.y.rounded()))
        pixels[3 * i + 2] = UInt8(clamping: Int(colour.z.rounded()))
        labels[i] = label
    }
}
