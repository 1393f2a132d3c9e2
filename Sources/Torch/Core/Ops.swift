import TorchIO
import CTorch

// The convenient (trapping) forms of the tensor operations, for model code. Each forwards to its
// throwing twin in `Tensor.Checked`.
extension Tensor {
    // MARK: conversion and autograd
    public func to(_ device: Device) -> Tensor { device == self.device ? self : Tensor.trap { try checked.to(device: device) } }
    public func to(_ dtype: DType) -> Tensor { dtype == self.dtype ? self : Tensor.trap { try checked.to(dtype: dtype) } }
    public func to(dtype: DType? = nil, device: Device? = nil) -> Tensor { Tensor.trap { try checked.to(dtype: dtype, device: device) } }
    public func contiguous() -> Tensor { isContiguous ? self : Tensor.trap { try checked.contiguous() } }
    public func contiguous(memoryFormat: MemoryFormat) -> Tensor {
        isContiguous(memoryFormat: memoryFormat) ? self : Tensor.trap { try checked.contiguous(memoryFormat: memoryFormat) }
    }
    /// An asynchronous host-to-device copy when this tensor is pinned (`to(device, non_blocking=True)`).
    public func to(_ device: Device, nonBlocking: Bool) -> Tensor {
        device == self.device ? self : Tensor.trap { try checked.to(device: device, nonBlocking: nonBlocking) }
    }
    public func clone() -> Tensor { Tensor.trap { try checked.clone() } }
    public func detach() -> Tensor { Tensor.trap { try checked.detach() } }

    // MARK: shape
    public func reshape(_ shape: [Int]) -> Tensor { Tensor.trap { try checked.reshape(shape) } }
    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }
    public func view(_ shape: [Int]) -> Tensor { Tensor.trap { try checked.view(shape) } }
    public func permute(_ dims: [Int]) -> Tensor { Tensor.trap { try checked.permute(dims) } }
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }
    public func transpose(_ a: Int, _ b: Int) -> Tensor { Tensor.trap { try checked.transpose(a, b) } }
    public func flatten(start: Int = 0, end: Int = -1) -> Tensor { Tensor.trap { try checked.flatten(start: start, end: end) } }
    public func squeeze(_ dim: Int) -> Tensor { Tensor.trap { try checked.squeeze(dim) } }
    public func unsqueeze(_ dim: Int) -> Tensor { Tensor.trap { try checked.unsqueeze(dim) } }
    public func expand(_ shape: [Int]) -> Tensor { Tensor.trap { try checked.expand(shape) } }
    public func repeated(_ reps: [Int]) -> Tensor { Tensor.trap { try checked.repeated(reps) } }
    public func split(sizes: [Int], dim: Int) -> [Tensor] { Tensor.trap { try checked.split(sizes: sizes, dim: dim) } }
    public func chunk(_ chunks: Int, dim: Int) -> [Tensor] { Tensor.trap { try checked.chunk(chunks, dim: dim) } }
    public func narrow(_ dim: Int, start: Int, length: Int) -> Tensor { Tensor.trap { try checked.narrow(dim, start: start, length: length) } }
    public func slice(_ dim: Int, start: Int, end: Int, step: Int = 1) -> Tensor {
        Tensor.trap { try checked.slice(dim, start: start, end: end, step: step) }
    }
    public func select(_ dim: Int, _ index: Int) -> Tensor { Tensor.trap { try checked.select(dim, index) } }
    public subscript(_ index: Int) -> Tensor { select(0, index) }
    public func indexSelect(_ dim: Int, _ index: Tensor) -> Tensor { Tensor.trap { try checked.indexSelect(dim, index) } }
    public func gather(_ dim: Int, _ index: Tensor) -> Tensor { Tensor.trap { try checked.gather(dim, index) } }
    public func maskedFill(_ mask: Tensor, _ value: Double) -> Tensor { Tensor.trap { try checked.maskedFill(mask, value) } }
    public func flip(_ dims: [Int]) -> Tensor { Tensor.trap { try checked.flip(dims) } }
    public func pad(_ pad: [Int], value: Double = 0) -> Tensor { Tensor.trap { try checked.pad(pad, value: value) } }

    public static func cat(_ ts: [Tensor], dim: Int = 0) -> Tensor { trap { try Checked.cat(ts, dim: dim) } }
    public static func stack(_ ts: [Tensor], dim: Int = 0) -> Tensor { trap { try Checked.stack(ts, dim: dim) } }
    public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor { trap { try Checked.where(cond, a, b) } }
    public static func einsum(_ equation: String, _ ts: Tensor...) -> Tensor { trap { try Checked.einsum(equation, ts) } }

    // MARK: element-wise
    public static func + (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.add(b) } }
    public static func - (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.sub(b) } }
    public static func * (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.mul(b) } }
    public static func / (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.div(b) } }
    public static func + (a: Tensor, s: Double) -> Tensor { trap { try a.checked.add(s) } }
    public static func - (a: Tensor, s: Double) -> Tensor { trap { try a.checked.add(-s) } }
    public static func * (a: Tensor, s: Double) -> Tensor { trap { try a.checked.mul(s) } }
    public static func / (a: Tensor, s: Double) -> Tensor { trap { try a.checked.div(s) } }
    public static func + (s: Double, a: Tensor) -> Tensor { a + s }
    public static func * (s: Double, a: Tensor) -> Tensor { a * s }
    public static func - (s: Double, a: Tensor) -> Tensor { trap { try a.checked.rsub(s) } }
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.neg) }

    public func pow(_ e: Double) -> Tensor { Tensor.trap { try checked.pow(e) } }
    public func pow(_ e: Tensor) -> Tensor { Tensor.trap { try checked.pow(e) } }
    public func clamp(min lo: Double? = nil, max hi: Double? = nil) -> Tensor { Tensor.trap { try checked.clamp(min: lo, max: hi) } }
    func unary(_ op: UnaryOp) -> Tensor { Tensor.trap { try checked.unary(op) } }
    public func abs() -> Tensor { unary(.abs) }
    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func sin() -> Tensor { unary(.sin) }
    public func cos() -> Tensor { unary(.cos) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func floor() -> Tensor { unary(.floor) }
    public func ceil() -> Tensor { unary(.ceil) }
    public func round() -> Tensor { unary(.round) }
    public func sign() -> Tensor { unary(.sign) }
    public func square() -> Tensor { unary(.square) }
    public func reciprocal() -> Tensor { unary(.reciprocal) }
    public func erf() -> Tensor { unary(.erf) }
    public func logicalNot() -> Tensor { unary(.logicalNot) }
    public func isNaN() -> Tensor { unary(.isNaN) }
    public func isInf() -> Tensor { unary(.isInf) }
    public func maximum(_ o: Tensor) -> Tensor { Tensor.trap { try checked.maximum(o) } }
    public func minimum(_ o: Tensor) -> Tensor { Tensor.trap { try checked.minimum(o) } }

    // Comparisons return bool tensors (`.==` style to keep Swift's `==` for identity-free equality checks).
    public static func .== (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.eq, b) } }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.ne, b) } }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.lt, b) } }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.le, b) } }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.gt, b) } }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.ge, b) } }
    public static func .== (a: Tensor, s: Double) -> Tensor { trap { try a.checked.compare(.eq, s) } }
    public static func .!= (a: Tensor, s: Double) -> Tensor { trap { try a.checked.compare(.ne, s) } }
    public static func .< (a: Tensor, s: Double) -> Tensor { trap { try a.checked.compare(.lt, s) } }
    public static func .<= (a: Tensor, s: Double) -> Tensor { trap { try a.checked.compare(.le, s) } }
    public static func .> (a: Tensor, s: Double) -> Tensor { trap { try a.checked.compare(.gt, s) } }
    public static func .>= (a: Tensor, s: Double) -> Tensor { trap { try a.checked.compare(.ge, s) } }
    public static func .& (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.logicalAnd, b) } }
    public static func .| (a: Tensor, b: Tensor) -> Tensor { trap { try a.checked.compare(.logicalOr, b) } }

    // MARK: in-place (explicit; they mutate storage shared by every view)
    public func copy_(_ src: Tensor) { Tensor.trap { try checked.copy_(src) } }
    public func zero_() { Tensor.trap { try checked.zero_() } }
    public func fill_(_ v: Double) { Tensor.trap { try checked.fill_(v) } }
    public func add_(_ o: Tensor, alpha: Double = 1) { Tensor.trap { try checked.add_(o, alpha: alpha) } }
    public func mul_(_ o: Tensor) { Tensor.trap { try checked.mul_(o) } }
    public func mul_(_ s: Double) { Tensor.trap { try checked.mul_(s) } }
    public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) { Tensor.trap { try checked.addcmul_(a, b, value: value) } }
    public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) { Tensor.trap { try checked.addcdiv_(a, b, value: value) } }
    public func lerp_(_ end: Tensor, weight: Double) { Tensor.trap { try checked.lerp_(end, weight: weight) } }
    public func uniform_(_ lo: Double, _ hi: Double) { Tensor.trap { try checked.uniform_(lo, hi) } }
    public func normal_(mean: Double = 0, std: Double = 1) { Tensor.trap { try checked.normal_(mean: mean, std: std) } }
    public func truncNormal_(mean: Double = 0, std: Double = 1, a: Double = -2, b: Double = 2) {
        Tensor.trap { try checked.truncNormal_(mean: mean, std: std, a: a, b: b) }
    }

    // MARK: reductions
    public func sum(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { Tensor.trap { try checked.sum(dims, keepDim: keepDim) } }
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum([dim], keepDim: keepDim) }
    public func mean(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { Tensor.trap { try checked.mean(dims, keepDim: keepDim) } }
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean([dim], keepDim: keepDim) }
    public func variance(_ dims: [Int] = [], unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        Tensor.trap { try checked.variance(dims, unbiased: unbiased, keepDim: keepDim) }
    }
    public func amax(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { Tensor.trap { try checked.amax(dims, keepDim: keepDim) } }
    public func amin(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { Tensor.trap { try checked.amin(dims, keepDim: keepDim) } }
    public func max() -> Tensor { amax() }
    public func min() -> Tensor { amin() }
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { Tensor.trap { try checked.max(dim: dim, keepDim: keepDim) } }
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { Tensor.trap { try checked.min(dim: dim, keepDim: keepDim) } }
    public func argmax(dim: Int, keepDim: Bool = false) -> Tensor { Tensor.trap { try checked.argmax(dim: dim, keepDim: keepDim) } }
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        Tensor.trap { try checked.topk(k, dim: dim, largest: largest) }
    }
    public func norm(_ p: Double = 2) -> Tensor { Tensor.trap { try checked.norm(p) } }
    public func bincount(weights: Tensor? = nil, minLength: Int = 0) -> Tensor { Tensor.trap { try checked.bincount(weights: weights, minLength: minLength) } }
    public func allFinite() -> Bool { Tensor.trap { try checked.allFinite() } }

    // MARK: linear algebra
    public func matmul(_ o: Tensor) -> Tensor { Tensor.trap { try checked.matmul(o) } }
    public func bmm(_ o: Tensor) -> Tensor { Tensor.trap { try checked.bmm(o) } }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .& : LogicalConjunctionPrecedence
infix operator .| : LogicalDisjunctionPrecedence
