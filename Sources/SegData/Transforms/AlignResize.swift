/// The test-time resize: rescale keeping the aspect ratio into `scale` (short side to min(scale), long side at
/// most max(scale)) as mmseg's `Resize(scale, keep_ratio=True)`; with a `sizeDivisor` (SegFormer/LRFormer's
/// `AlignResize`), resize again so both sides are rounded UP to a multiple of it. Two resizes, as upstream does
/// (the second is a no-op when the first size is already aligned).
public struct AlignResize: Sendable {
    public var scale: (Int, Int)
    /// nil: no rounding (mmseg 1.x `Resize`).
    public var sizeDivisor: Int?

    public init(scale: (Int, Int) = (2048, 512), sizeDivisor: Int? = 32) {
        precondition(sizeDivisor.map { $0 > 0 } ?? true, "AlignResize: sizeDivisor must be positive")
        self.scale = scale
        self.sizeDivisor = sizeDivisor
    }

    /// The intermediate (rescaled) and final (aligned) sizes for an input size.
    public func sizes(width: Int, height: Int) -> (rescaled: (width: Int, height: Int), aligned: (width: Int, height: Int)) {
        let r = Resize.rescaledSize(width: width, height: height, scale: scale)
        let rw = max(r.width, 1), rh = max(r.height, 1)
        guard let d = sizeDivisor else { return ((rw, rh), (rw, rh)) }
        let align = { (x: Int) in (x + d - 1) / d * d }
        return ((rw, rh), (align(rw), align(rh)))
    }

    public func apply(_ image: Image) -> Image {
        let s = sizes(width: image.width, height: image.height)
        let rescaled = Resize.bilinear(image, width: s.rescaled.width, height: s.rescaled.height)
        return Resize.bilinear(rescaled, width: s.aligned.width, height: s.aligned.height)
    }

    public func apply(_ labels: LabelMap) -> LabelMap {
        let s = sizes(width: labels.width, height: labels.height)
        let rescaled = Resize.nearest(labels, width: s.rescaled.width, height: s.rescaled.height)
        return Resize.nearest(rescaled, width: s.aligned.width, height: s.aligned.height)
    }
}
