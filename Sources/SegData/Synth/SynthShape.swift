import Foundation

/// The object silhouettes of the synthetic scenes, tested at pixel centres.
enum SynthShape {
    case circle(cx: Float, cy: Float, r: Float)
    /// A rectangle of half-extents (hw, hh) rotated by `angle` about its centre.
    case rectangle(cx: Float, cy: Float, hw: Float, hh: Float, angle: Float)
    case triangle(SIMD2<Float>, SIMD2<Float>, SIMD2<Float>)
    /// A circle of radius `r` whose edge is modulated by a few harmonics (amplitudes sum below 0.5).
    case blob(cx: Float, cy: Float, r: Float, harmonics: [(k: Float, amplitude: Float, phase: Float)])

    /// The pixel rectangle that may contain the shape: (x0, y0, x1, y1), half-open, unclamped.
    var bounds: (Int, Int, Int, Int) {
        func box(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float) -> (Int, Int, Int, Int) {
            (Int(x0.rounded(.down)), Int(y0.rounded(.down)), Int(x1.rounded(.up)) + 1, Int(y1.rounded(.up)) + 1)
        }
        switch self {
        case let .circle(cx, cy, r):
            return box(cx - r, cy - r, cx + r, cy + r)
        case let .rectangle(cx, cy, hw, hh, angle):
            let ex = abs(hw * cos(angle)) + abs(hh * sin(angle)), ey = abs(hw * sin(angle)) + abs(hh * cos(angle))
            return box(cx - ex, cy - ey, cx + ex, cy + ey)
        case let .triangle(a, b, c):
            return box(min(a.x, b.x, c.x), min(a.y, b.y, c.y), max(a.x, b.x, c.x), max(a.y, b.y, c.y))
        case let .blob(cx, cy, r, harmonics):
            let reach = r * (1 + harmonics.reduce(0) { $0 + abs($1.amplitude) })
            return box(cx - reach, cy - reach, cx + reach, cy + reach)
        }
    }

    func contains(x: Float, y: Float) -> Bool {
        switch self {
        case let .circle(cx, cy, r):
            let dx = x - cx, dy = y - cy
            return dx * dx + dy * dy <= r * r
        case let .rectangle(cx, cy, hw, hh, angle):
            let dx = x - cx, dy = y - cy
            let u = dx * cos(angle) + dy * sin(angle), v = -dx * sin(angle) + dy * cos(angle)
            return abs(u) <= hw && abs(v) <= hh
        case let .triangle(a, b, c):
            let p = SIMD2<Float>(x, y)
            func side(_ p1: SIMD2<Float>, _ p2: SIMD2<Float>) -> Float {
                (p2.x - p1.x) * (p.y - p1.y) - (p2.y - p1.y) * (p.x - p1.x)
            }
            let d1 = side(a, b), d2 = side(b, c), d3 = side(c, a)
            let hasNegative = d1 < 0 || d2 < 0 || d3 < 0, hasPositive = d1 > 0 || d2 > 0 || d3 > 0
            return !(hasNegative && hasPositive)
        case let .blob(cx, cy, r, harmonics):
            let dx = x - cx, dy = y - cy
            let theta = atan2(dy, dx)
            var radius = r
            for h in harmonics { radius += r * h.amplitude * sin(h.k * theta + h.phase) }
            return dx * dx + dy * dy <= radius * radius
        }
    }
}
