/// Element types. Raw values are c10::ScalarType codes, so they pass through the C shim unchanged.
public enum DType: Int32, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case int16 = 2
    case int32 = 3
    case int64 = 4
    case float16 = 5
    case float32 = 6
    case float64 = 7
    case bool = 11
    case bfloat16 = 15

    /// Bytes per element.
    public var elementSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .int16, .float16, .bfloat16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }

    /// The PyTorch name (`torch.float32` prints as `float32`).
    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .bfloat16: return "bfloat16"
        }
    }

    /// Parses PyTorch-style names (`float32`, `torch.float16`, `half`, `bf16`, ...).
    public init?(name: String) {
        let n = name.hasPrefix("torch.") ? String(name.dropFirst(6)) : name
        switch n.lowercased() {
        case "uint8", "u8": self = .uint8
        case "int8", "i8": self = .int8
        case "int16", "short", "i16": self = .int16
        case "int32", "int", "i32": self = .int32
        case "int64", "long", "i64": self = .int64
        case "float16", "half", "f16", "fp16": self = .float16
        case "float32", "float", "f32", "fp32": self = .float32
        case "float64", "double", "f64", "fp64": self = .float64
        case "bool": self = .bool
        case "bfloat16", "bf16": self = .bfloat16
        default: return nil
        }
    }
}
