/// OpenCV's 8-bit RGB <-> HSV conversions (`COLOR_RGB2HSV` / `COLOR_HSV2RGB` on uint8), written out so
/// that the photometric distortion changes colours exactly as mmseg's cv2 calls do.
/// H is in [0, 180), S and V in [0, 255].
enum ColorHSV {
    private static let shift = 12

    /// round((255 << 12) / i), with 0 for i = 0 (OpenCV's `sdiv_table`).
    private static let saturationDivisors: [Int] = (0..<256).map { i in
        i == 0 ? 0 : Int((Double(255 << shift) / Double(i)).rounded(.toNearestOrEven))
    }

    /// round((180 << 12) / (6 i)), with 0 for i = 0 (OpenCV's `hdiv_table180`).
    private static let hueDivisors: [Int] = (0..<256).map { i in
        i == 0 ? 0 : Int((Double(180 << shift) / (6.0 * Double(i))).rounded(.toNearestOrEven))
    }

    @inline(__always)
    static func hsv(r: UInt8, g: UInt8, b: UInt8) -> (h: UInt8, s: UInt8, v: UInt8) {
        let r = Int(r), g = Int(g), b = Int(b)
        let v = max(r, g, b), vmin = min(r, g, b)
        let diff = v - vmin
        let s = (diff * saturationDivisors[v] + (1 << (shift - 1))) >> shift
        var h: Int
        if v == r {
            h = g - b
        } else if v == g {
            h = b - r + 2 * diff
        } else {
            h = r - g + 4 * diff
        }
        h = (h * hueDivisors[diff] + (1 << (shift - 1))) >> shift
        if h < 0 { h += 180 }
        return (UInt8(clamping: h), UInt8(clamping: s), UInt8(clamping: v))
    }

    /// Which of (v, v(1-s), v(1-sh), v(1-s(1-h))) each of R, G, B takes in each 60-degree sector.
    private static let sectors: [(r: Int, g: Int, b: Int)] = [
        (0, 3, 1), (2, 0, 1), (1, 0, 3), (1, 2, 0), (3, 1, 0), (0, 1, 2),
    ]

    @inline(__always)
    static func rgb(h: UInt8, s: UInt8, v: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        let sf = Float(s) * (1 / 255 as Float), vf = Float(v) * (1 / 255 as Float)
        var r = vf, g = vf, b = vf
        if sf != 0 {
            var hf = Float(h) * (6 / 180 as Float)
            hf = hf.truncatingRemainder(dividingBy: 6)
            var sector = Int(hf.rounded(.down))
            hf -= Float(sector)
            if sector < 0 || sector >= 6 {
                sector = 0
                hf = 0
            }
            let tab = (vf, vf * (1 - sf), vf * (1 - sf * hf), vf * (1 - sf * (1 - hf)))
            func pick(_ i: Int) -> Float {
                switch i {
                case 0: return tab.0
                case 1: return tab.1
                case 2: return tab.2
                default: return tab.3
                }
            }
            let sel = sectors[sector]
            r = pick(sel.r)
            g = pick(sel.g)
            b = pick(sel.b)
        }
        return (toByte(r), toByte(g), toByte(b))
    }

    @inline(__always)
    private static func toByte(_ x: Float) -> UInt8 {
        UInt8(clamping: Int((x * 255).rounded(.toNearestOrEven)))
    }
}
