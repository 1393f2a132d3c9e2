import CTorch

/// The element-wise unary ops the shim dispatches by code; `name` is ATen's (what the op recorder reports).
public enum UnaryOp: CaseIterable, Sendable {
    case neg
    case abs
    case exp
    case log
    case sqrt
    case rsqrt
    case sin
    case cos
    case tanh
    case sigmoid
    case relu
    case floor
    case ceil
    case round
    case sign
    case logicalNot
    case isNaN
    case isInf
    case erf
    case square
    case reciprocal
    case silu
    case hardswish

    public var name: String {
        switch self {
        case .neg: return "neg"
        case .abs: return "abs"
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .rsqrt: return "rsqrt"
        case .sin: return "sin"
        case .cos: return "cos"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .relu: return "relu"
        case .floor: return "floor"
        case .ceil: return "ceil"
        case .round: return "round"
        case .sign: return "sign"
        case .logicalNot: return "logical_not"
        case .isNaN: return "isnan"
        case .isInf: return "isinf"
        case .erf: return "erf"
        case .square: return "square"
        case .reciprocal: return "reciprocal"
        case .silu: return "silu"
        case .hardswish: return "hardswish"
        }
    }

    var code: ts_unary_op {
        switch self {
        case .neg: return TS_UNARY_NEG
        case .abs: return TS_UNARY_ABS
        case .exp: return TS_UNARY_EXP
        case .log: return TS_UNARY_LOG
        case .sqrt: return TS_UNARY_SQRT
        case .rsqrt: return TS_UNARY_RSQRT
        case .sin: return TS_UNARY_SIN
        case .cos: return TS_UNARY_COS
        case .tanh: return TS_UNARY_TANH
        case .sigmoid: return TS_UNARY_SIGMOID
        case .relu: return TS_UNARY_RELU
        case .floor: return TS_UNARY_FLOOR
        case .ceil: return TS_UNARY_CEIL
        case .round: return TS_UNARY_ROUND
        case .sign: return TS_UNARY_SIGN
        case .logicalNot: return TS_UNARY_LOGICAL_NOT
        case .isNaN: return TS_UNARY_ISNAN
        case .isInf: return TS_UNARY_ISINF
        case .erf: return TS_UNARY_ERF
        case .square: return TS_UNARY_SQUARE
        case .reciprocal: return TS_UNARY_RECIPROCAL
        case .silu: return TS_UNARY_SILU
        case .hardswish: return TS_UNARY_HARDSWISH
        }
    }
}

/// Comparisons and logical and/or, dispatched by code.
public enum CompareOp: CaseIterable, Sendable {
    case eq
    case ne
    case lt
    case le
    case gt
    case ge
    case logicalAnd
    case logicalOr

    public var name: String {
        switch self {
        case .eq: return "eq"
        case .ne: return "ne"
        case .lt: return "lt"
        case .le: return "le"
        case .gt: return "gt"
        case .ge: return "ge"
        case .logicalAnd: return "logical_and"
        case .logicalOr: return "logical_or"
        }
    }

    var code: ts_compare_op {
        switch self {
        case .eq: return TS_COMPARE_EQ
        case .ne: return TS_COMPARE_NE
        case .lt: return TS_COMPARE_LT
        case .le: return TS_COMPARE_LE
        case .gt: return TS_COMPARE_GT
        case .ge: return TS_COMPARE_GE
        case .logicalAnd: return TS_COMPARE_LOGICAL_AND
        case .logicalOr: return TS_COMPARE_LOGICAL_OR
        }
    }
}
