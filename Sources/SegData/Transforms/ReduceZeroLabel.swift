extension LabelMap {
    /// mmseg's `reduce_zero_label`: 0 ("other") becomes ignore (255), every other class moves down by
    /// one, and 255 stays 255. Used by ADE20K, whose annotations start the real classes at 1.
    public func reducingZeroLabel() -> LabelMap {
        var out = labels
        for i in out.indices {
            let v = out[i]
            out[i] = (v == 0 || v == LabelMap.ignoreIndex) ? LabelMap.ignoreIndex : v - 1
        }
        return LabelMap(width: width, height: height, labels: out)
    }
}
