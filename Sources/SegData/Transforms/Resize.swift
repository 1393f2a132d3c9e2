/// Image and label resizing with OpenCV's semantics, as mmcv's `imresize`/`imrescale` use them.
public enum Resize {
    /// mmcv's `rescale_size` for a (long, short) bound: the largest factor that keeps the long edge
    /// <= max(scale) and the short edge <= min(scale), then `int(x * factor + 0.5)` per side.
    /// `scale` is in mmcv's (w, h) order, but only its max and min matter.
    public static func rescaledSize(width: Int, height: Int, scale: (Int, Int)) -> (width: Int, height: Int) {
        let longBound = Double(max(scale.0, scale.1)), shortBound = Double(min(scale.0, scale.1))
        let factor = min(longBound / Double(max(width, height)), shortBound / Double(min(width, height)))
        return scaledSize(width: width, height: height, factor: factor)
    }

    /// mmcv's `_scale_size`: each side times `factor`, rounded half up.
    public static func scaledSize(width: Int, height: Int, factor: Double) -> (width: Int, height: Int) {
        (Int(Double(width) * factor + 0.5), Int(Double(height) * factor + 0.5))
    }

    /// Bilinear resize as `cv2.resize(..., INTER_LINEAR)` computes it on 8-bit images: half-pixel
    /// centres (`src = (dst + 0.5) * in/out - 0.5`), edge pixels repeated, 11-bit fixed-point weights.
    /// The vertical pass rounds as OpenCV's SIMD path does; its scalar tail may differ by 1 on rare pixels.
    public static func bilinear(_ image: Image, width dstWidth: Int, height dstHeight: Int) -> Image {
        precondition(dstWidth > 0 && dstHeight > 0, "Resize.bilinear: empty target size \(dstWidth)x\(dstHeight)")
        if dstWidth == image.width && dstHeight == image.height { return image }
        let cn = image.channels, srcWidth = image.width, srcHeight = image.height
        let xTaps = linearTaps(source: srcWidth, target: dstWidth)
        let yTaps = linearTaps(source: srcHeight, target: dstHeight)
        let rowLength = dstWidth * cn

        // Horizontal pass for one source row, computed once per row on demand.
        var horizontal = [Int32](repeating: 0, count: srcHeight * rowLength)
        var done = [Bool](repeating: false, count: srcHeight)
        var out = [UInt8](repeating: 0, count: dstHeight * rowLength)
        image.pixels.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { hor in
                func prepare(_ sy: Int) {
                    if done[sy] { return }
                    done[sy] = true
                    let srow = sy * srcWidth * cn, hrow = sy * rowLength
                    for dx in 0..<dstWidth {
                        let t = xTaps[dx]
                        let s0 = srow + t.index * cn, s1 = srow + t.next * cn
                        for k in 0..<cn {
                            hor[hrow + dx * cn + k] = Int32(src[s0 + k]) * t.w0 + Int32(src[s1 + k]) * t.w1
                        }
                    }
                }
                out.withUnsafeMutableBufferPointer { dst in
                    for dy in 0..<dstHeight {
                        let t = yTaps[dy]
                        prepare(t.index)
                        prepare(t.next)
                        let r0 = t.index * rowLength, r1 = t.next * rowLength, d = dy * rowLength
                        for x in 0..<rowLength {
                            // OpenCV: v_rshr_pack_u<2>(mul_hi(S0 >> 4, b0) + mul_hi(S1 >> 4, b1)).
                            let a = ((hor[r0 + x] >> 4) &* t.w0) >> 16
                            let b = ((hor[r1 + x] >> 4) &* t.w1) >> 16
                            let v = (a + b + 2) >> 2
                            dst[d + x] = UInt8(clamping: v)
                        }
                    }
                }
            }
        }
        return Image(width: dstWidth, height: dstHeight, channels: cn, pixels: out)
    }

    /// Nearest-neighbour resize as `cv2.resize(..., INTER_NEAREST)`: `src = floor(dst * in/out)`
    /// (no half-pixel offset), clamped to the last row/column. Used for label maps.
    public static func nearest(_ labels: LabelMap, width dstWidth: Int, height dstHeight: Int) -> LabelMap {
        precondition(dstWidth > 0 && dstHeight > 0, "Resize.nearest: empty target size \(dstWidth)x\(dstHeight)")
        if dstWidth == labels.width && dstHeight == labels.height { return labels }
        let xs = nearestIndices(source: labels.width, target: dstWidth)
        let ys = nearestIndices(source: labels.height, target: dstHeight)
        var out = [UInt8](repeating: 0, count: dstWidth * dstHeight)
        labels.labels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for dy in 0..<dstHeight {
                    let srow = ys[dy] * labels.width, d = dy * dstWidth
                    for dx in 0..<dstWidth { dst[d + dx] = src[srow + xs[dx]] }
                }
            }
        }
        return LabelMap(width: dstWidth, height: dstHeight, labels: out)
    }

    /// One output coordinate's two source taps and fixed-point weights (sum 2048).
    struct Tap {
        var index: Int
        var next: Int
        var w0: Int32
        var w1: Int32
    }

    /// OpenCV's coefficient table for INTER_LINEAR (resize.cpp): float offsets, weights rounded to 1/2048.
    static func linearTaps(source: Int, target: Int) -> [Tap] {
        let scale = 1.0 / (Double(target) / Double(source))
        return (0..<target).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if s < 0 { f = 0; s = 0 }
            if s >= source - 1 { f = 0; s = source - 1 }
            let w0 = Int32(((1 - f) * 2048).rounded(.toNearestOrEven))
            let w1 = Int32((f * 2048).rounded(.toNearestOrEven))
            return Tap(index: s, next: min(s + 1, source - 1), w0: w0, w1: w1)
        }
    }

    static func nearestIndices(source: Int, target: Int) -> [Int] {
        let scale = 1.0 / (Double(target) / Double(source))
        return (0..<target).map { d in min(Int((Double(d) * scale).rounded(.down)), source - 1) }
    }
}
