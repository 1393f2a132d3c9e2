import Foundation

/// Bounds-checked little-endian reads from untrusted bytes. Offsets are relative to the start of
/// the buffer (not to `Data.startIndex`, which is non-zero for slices); nil means out of range.
extension Data {
    func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return nil }
        return withUnsafeBytes { raw in
            T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
    }

    /// The bytes in `offset ..< offset + length` as a slice sharing this buffer, or nil when the
    /// range does not lie inside it. Overflow-safe for hostile lengths.
    func bytes(at offset: Int, length: Int) -> Data? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return self[(startIndex + offset) ..< (startIndex + offset + length)]
    }
}

/// Overflow-checked product of dimensions (nil when a dimension is negative or the product
/// overflows), so that hostile shapes cannot reach `HostTensor`'s unchecked `reduce(1, *)`.
func checkedElementCount(_ shape: [Int]) -> Int? {
    var total = 1
    for dim in shape {
        guard dim >= 0 else { return nil }
        let (product, overflow) = total.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        total = product
    }
    return total
}

/// Overflow-checked byte count of a tensor of `shape` and `dtype`.
func checkedByteCount(_ shape: [Int], _ dtype: DType) -> Int? {
    guard let n = checkedElementCount(shape) else { return nil }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.elementSize)
    return overflow ? nil : bytes
}
