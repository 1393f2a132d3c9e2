import Foundation

extension Float {
    /// The value of an IEEE half-precision bit pattern (exact: every half is a float), computed
    /// from the bits so that it works on every platform, with or without `Float16`.
    public init(float16Bits bits: UInt16) {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0x1F:  // infinity or NaN (payload kept)
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        case 0:  // zero or subnormal: mantissa * 2^-24
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign == 0 ? magnitude : -magnitude
        default:  // rebias the exponent from 15 to 127
            self = Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// The value of a bfloat16 bit pattern: the high half of a float's bits.
    public init(bfloat16Bits bits: UInt16) {
        self = Float(bitPattern: UInt32(bits) << 16)
    }
}

extension HostTensor {
    /// Every element converted to `Float`, in row-major order (integers and booleans too; large
    /// int64 and float64 values round). For comparing checkpoints and writing tests.
    public func floatValues() -> [Float] {
        let n = bytes.count / dtype.elementSize
        return bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            func load<T>(_ type: T.Type, _ convert: (T) -> Float) -> [Float] {
                (0 ..< n).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
            switch dtype {
            case .float32: return load(Float.self) { $0 }
            case .float64: return load(Double.self) { Float($0) }
            case .float16: return load(UInt16.self) { Float(float16Bits: UInt16(littleEndian: $0)) }
            case .bfloat16: return load(UInt16.self) { Float(bfloat16Bits: UInt16(littleEndian: $0)) }
            case .int64: return load(Int64.self) { Float(Int64(littleEndian: $0)) }
            case .int32: return load(Int32.self) { Float(Int32(littleEndian: $0)) }
            case .int16: return load(Int16.self) { Float(Int16(littleEndian: $0)) }
            case .int8: return load(Int8.self) { Float($0) }
            case .uint8: return load(UInt8.self) { Float($0) }
            case .bool: return load(UInt8.self) { $0 == 0 ? 0 : 1 }
            }
        }
    }
}
