import Foundation

/// Procedural textures for the synthetic scenes, each giving a value in about [-1, 1] at a pixel.
/// Integer hashing (no tables, no state) keeps them deterministic and cheap.
enum SynthTexture {
    /// Smooth value noise with cells of `cell` pixels.
    case noise(cell: Float, seed: UInt32)
    /// Parallel bands of `period` pixels across the unit direction (cos, sin) of their angle.
    case stripes(period: Float, cos: Float, sin: Float)
    /// Squares of `cell` pixels, rotated by the angle whose (cos, sin) is given.
    case checker(cell: Float, cos: Float, sin: Float)
    /// A grid of round spots of `radius` every `period` pixels.
    case dots(period: Float, radius: Float)

    /// Bands at `angle` (radians); the direction is computed once, not per pixel.
    static func stripes(period: Float, angle: Float) -> SynthTexture {
        .stripes(period: period, cos: Foundation.cos(angle), sin: Foundation.sin(angle))
    }

    static func checker(cell: Float, angle: Float) -> SynthTexture {
        .checker(cell: cell, cos: Foundation.cos(angle), sin: Foundation.sin(angle))
    }

    func value(x: Float, y: Float) -> Float {
        switch self {
        case let .noise(cell, seed):
            return SynthTexture.valueNoise(x: x / cell, y: y / cell, seed: seed) * 2 - 1
        case let .stripes(period, c, s):
            let t = x * c + y * s
            return Foundation.sin(t * (2 * Float.pi) / period)
        case let .checker(cell, c, s):
            let u = x * c + y * s, v = -x * s + y * c
            let parity = (Int((u / cell).rounded(.down)) + Int((v / cell).rounded(.down))) & 1
            return parity == 0 ? 1 : -1
        case let .dots(period, radius):
            let dx = x - (x / period).rounded() * period, dy = y - (y / period).rounded() * period
            return dx * dx + dy * dy <= radius * radius ? 1 : -0.6
        }
    }

    /// Bilinear interpolation of hashed lattice values with a smoothstep fade; in [0, 1].
    static func valueNoise(x: Float, y: Float, seed: UInt32) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int32(fx), iy = Int32(fy)
        var tx = x - fx, ty = y - fy
        tx = tx * tx * (3 - 2 * tx)
        ty = ty * ty * (3 - 2 * ty)
        let a = unit(hash(ix, iy, seed)), b = unit(hash(ix &+ 1, iy, seed))
        let c = unit(hash(ix, iy &+ 1, seed)), d = unit(hash(ix &+ 1, iy &+ 1, seed))
        let top = a + (b - a) * tx, bottom = c + (d - c) * tx
        return top + (bottom - top) * ty
    }

    /// A 32-bit integer hash of a lattice point (murmur3-style finaliser).
    @inline(__always)
    static func hash(_ x: Int32, _ y: Int32, _ seed: UInt32) -> UInt32 {
        var h = UInt32(bitPattern: x) &* 0x8DA6_B343 ^ UInt32(bitPattern: y) &* 0xD816_3841 ^ seed &* 0xCB1A_B31F
        h ^= h >> 16
        h = h &* 0x85EB_CA6B
        h ^= h >> 13
        h = h &* 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    @inline(__always)
    static func unit(_ h: UInt32) -> Float {
        Float(h >> 8) * (1 / 16_777_216 as Float)
    }
}
