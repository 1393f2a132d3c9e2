import CTorch
import Foundation
import TorchIO

extension Tensor {
    /// The throwing form of every tensor operation: `try x.checked.matmul(y)` reports libtorch's
    /// error as a `TorchError` instead of trapping. Use it wherever user input reaches an op.
    public var checked: Checked { Checked(t: self) }

    public struct Checked {
        let t: Tensor
        var h: ts_tensor { t.handle }

        // MARK: factories

        public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("zeros") { ts_zeros(s, n, dtype.rawValue, device.typeCode, device.index, $0) } }
        }
        public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("ones") { ts_ones(s, n, dtype.rawValue, device.typeCode, device.index, $0) } }
        }
        public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("full") { ts_full(s, n, value, dtype.rawValue, device.typeCode, device.index, $0) } }
        }
        public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("empty") { ts_empty(s, n, dtype.rawValue, device.typeCode, device.index, $0) } }
        }
        public static func arange(_ start: Double, _ end: Double, step: Double, dtype: DType, device: Device) throws -> Tensor {
            try make("arange") { ts_arange(start, end, step, dtype.rawValue, device.typeCode, device.index, $0) }
        }
        public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType, device: Device) throws -> Tensor {
            try make("linspace") { ts_linspace(start, end, Int64(steps), dtype.rawValue, device.typeCode, device.index, $0) }
        }
        public static func rand(_ shape: [Int], dtype: DType, device: Device) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("rand") { ts_rand(s, n, dtype.rawValue, device.typeCode, device.index, $0) } }
        }
        public static func randn(_ shape: [Int], dtype: DType, device: Device) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("randn") { ts_randn(s, n, dtype.rawValue, device.typeCode, device.index, $0) } }
        }
        public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType, device: Device) throws -> Tensor {
            try withInt64s(shape) { s, n in
                try make("randint") { ts_randint(Int64(low), Int64(high), s, n, dtype.rawValue, device.typeCode, device.index, $0) }
            }
        }
        public static func fromArray<T: TensorElement>(_ values: [T], shape: [Int]? = nil) throws -> Tensor {
            Tensor(owning: try rawHandle(values, shape: shape))
        }
        public static func cat(_ ts: [Tensor], dim: Int) throws -> Tensor {
            guard !ts.isEmpty else { throw TorchError("cat", "expected a non-empty list of tensors") }
            return try withHandles(ts) { p, n in try make("cat") { ts_cat(p, n, Int64(dim), $0) } }
        }
        public static func stack(_ ts: [Tensor], dim: Int) throws -> Tensor {
            guard !ts.isEmpty else { throw TorchError("stack", "expected a non-empty list of tensors") }
            return try withHandles(ts) { p, n in try make("stack") { ts_stack(p, n, Int64(dim), $0) } }
        }
        public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
            try make("where") { ts_where(cond.handle, a.handle, b.handle, $0) }
        }
        public static func einsum(_ equation: String, _ ts: [Tensor]) throws -> Tensor {
            guard !ts.isEmpty else { throw TorchError("einsum", "expected at least one operand") }
            let out = try withHandles(ts) { p, n in try make("einsum") { ts_einsum(equation, p, n, $0) } }
            OpRecorder.note("einsum:" + equation, ts, out)  // the equation travels in the name: shapes alone cannot say what is contracted
            return out
        }

        // MARK: conversion and autograd

        /// `nonBlocking`: an asynchronous copy between a pinned host tensor and a CUDA device (`non_blocking=True`);
        /// the result must not be read on the host before the device has caught up.
        public func to(dtype: DType? = nil, device: Device? = nil, copy: Bool = false, nonBlocking: Bool = false) throws -> Tensor {
            let d = dtype ?? t.dtype, dev = device ?? t.device
            return try make("to") { ts_to(h, d.rawValue, dev.typeCode, dev.index, nonBlocking ? 1 : 0, copy ? 1 : 0, $0) }
        }
        public func contiguous() throws -> Tensor { try make("contiguous") { ts_contiguous(h, $0) } }
        /// The tensor laid out in `memoryFormat` (`x.contiguous(memory_format=torch.channels_last)`); itself if already so.
        public func contiguous(memoryFormat: MemoryFormat) throws -> Tensor {
            try make("contiguous") { ts_contiguous_format(h, memoryFormat.rawValue, $0) }
        }
        /// A page-locked copy of this CPU tensor (`pin_memory()`), from which host-to-device copies can run
        /// asynchronously. Needs CUDA: throws (kind `.device`) without it.
        public func pinMemory() throws -> Tensor { try make("pin_memory") { ts_pin_memory(h, $0) } }
        public func clone() throws -> Tensor { try make("clone") { ts_clone(h, $0) } }
        public func detach() throws -> Tensor { try make("detach") { ts_detach(h, $0) } }
        public func backward(_ grad: Tensor? = nil, retainGraph: Bool = false) throws {
            try check("backward", ts_backward(h, grad?.handle, retainGraph ? 1 : 0))
        }
        public func setRequiresGrad(_ on: Bool) throws { try check("requires_grad_", ts_set_requires_grad(h, on ? 1 : 0)) }

        // MARK: shape

        public func reshape(_ shape: [Int]) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("reshape") { ts_reshape(h, s, n, $0) } }
        }
        public func view(_ shape: [Int]) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("view") { ts_view(h, s, n, $0) } }
        }
        public func permute(_ dims: [Int]) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("permute") { ts_permute(h, s, n, $0) } }
        }
        public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
            try make("transpose") { ts_transpose(h, Int64(a), Int64(b), $0) }
        }
        public func flatten(start: Int = 0, end: Int = -1) throws -> Tensor {
            try make("flatten") { ts_flatten(h, Int64(start), Int64(end), $0) }
        }
        public func squeeze(_ dim: Int) throws -> Tensor { try make("squeeze") { ts_squeeze(h, Int64(dim), $0) } }
        public func unsqueeze(_ dim: Int) throws -> Tensor { try make("unsqueeze") { ts_unsqueeze(h, Int64(dim), $0) } }
        public func expand(_ shape: [Int]) throws -> Tensor {
            try withInt64s(shape) { s, n in try make("expand") { ts_expand(h, s, n, $0) } }
        }
        public func repeated(_ reps: [Int]) throws -> Tensor {
            try withInt64s(reps) { s, n in try make("repeat") { ts_repeat(h, s, n, $0) } }
        }
        public func split(sizes: [Int], dim: Int) throws -> [Tensor] {
            var outs = [ts_tensor?](repeating: nil, count: sizes.count)
            try withInt64s(sizes) { s, n in try check("split", ts_split_with_sizes(h, s, n, Int64(dim), &outs)) }
            return outs.map { Tensor(owning: $0!) }
        }
        /// `torch.chunk`: `chunks` pieces of ceil(size/chunks) along `dim` (the last may be smaller).
        public func chunk(_ chunks: Int, dim: Int) throws -> [Tensor] {
            guard chunks > 0 else { throw TorchError("chunk", "chunks must be positive, got \(chunks)") }
            let shape = t.shape
            guard !shape.isEmpty else { throw TorchError("chunk", "cannot chunk a 0-d tensor") }
            let d = dim < 0 ? dim + shape.count : dim
            guard d >= 0 && d < shape.count else { throw TorchError("chunk", "dim \(dim) out of range for rank \(shape.count)") }
            let size = shape[d], step = Swift.max(1, (size + chunks - 1) / chunks)
            var sizes: [Int] = []
            var left = size
            while left > 0 { sizes.append(Swift.min(step, left)); left -= step }
            return try split(sizes: sizes.isEmpty ? [0] : sizes, dim: d)
        }
        public func narrow(_ dim: Int, start: Int, length: Int) throws -> Tensor {
            try make("narrow") { ts_narrow(h, Int64(dim), Int64(start), Int64(length), $0) }
        }
        public func slice(_ dim: Int, start: Int, end: Int, step: Int = 1) throws -> Tensor {
            try make("slice") { ts_slice(h, Int64(dim), Int64(start), Int64(end), Int64(step), $0) }
        }
        public func select(_ dim: Int, _ index: Int) throws -> Tensor {
            try make("select") { ts_select(h, Int64(dim), Int64(index), $0) }
        }
        public func indexSelect(_ dim: Int, _ index: Tensor) throws -> Tensor {
            try make("index_select") { ts_index_select(h, Int64(dim), index.handle, $0) }
        }
        public func gather(_ dim: Int, _ index: Tensor) throws -> Tensor {
            try make("gather") { ts_gather(h, Int64(dim), index.handle, $0) }
        }
        public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
            try make("masked_fill") { ts_masked_fill(h, mask.handle, value, $0) }
        }
        public func flip(_ dims: [Int]) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("flip") { ts_flip(h, s, n, $0) } }
        }
        /// `F.pad` with a constant: `pad` lists (left, right, top, bottom, ...) from the last dim.
        public func pad(_ pad: [Int], value: Double = 0) throws -> Tensor {
            try withInt64s(pad) { s, n in try make("pad") { ts_constant_pad(h, s, n, value, $0) } }
        }

        // MARK: element-wise

        public func add(_ o: Tensor) throws -> Tensor {
            let out = try make("add") { ts_add(h, o.handle, $0) }
            OpRecorder.note("add", [t, o], out)
            return out
        }
        public func sub(_ o: Tensor) throws -> Tensor {
            let out = try make("sub") { ts_sub(h, o.handle, $0) }
            OpRecorder.note("sub", [t, o], out)
            return out
        }
        public func mul(_ o: Tensor) throws -> Tensor {
            let out = try make("mul") { ts_mul(h, o.handle, $0) }
            OpRecorder.note("mul", [t, o], out)
            return out
        }
        public func div(_ o: Tensor) throws -> Tensor {
            let out = try make("div") { ts_div(h, o.handle, $0) }
            OpRecorder.note("div", [t, o], out)
            return out
        }
        public func add(_ s: Double) throws -> Tensor {
            let out = try make("add") { ts_add_scalar(h, s, $0) }
            OpRecorder.note("add", [t], out)
            return out
        }
        public func mul(_ s: Double) throws -> Tensor {
            let out = try make("mul") { ts_mul_scalar(h, s, $0) }
            OpRecorder.note("mul", [t], out)
            return out
        }
        public func div(_ s: Double) throws -> Tensor {
            let out = try make("div") { ts_div_scalar(h, s, $0) }
            OpRecorder.note("div", [t], out)
            return out
        }
        public func rsub(_ s: Double) throws -> Tensor {
            let out = try make("rsub") { ts_rsub_scalar(h, s, $0) }
            OpRecorder.note("rsub", [t], out)
            return out
        }
        public func pow(_ e: Double) throws -> Tensor {
            let out = try make("pow") { ts_pow_scalar(h, e, $0) }
            OpRecorder.note("pow", [t], out)
            return out
        }
        public func pow(_ e: Tensor) throws -> Tensor {
            let out = try make("pow") { ts_pow(h, e.handle, $0) }
            OpRecorder.note("pow", [t, e], out)
            return out
        }
        public func clamp(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
            let out = try make("clamp") { ts_clamp(h, lo ?? 0, hi ?? 0, lo == nil ? 0 : 1, hi == nil ? 0 : 1, $0) }
            OpRecorder.note("clamp", [t], out)
            return out
        }
        public func unary(_ op: UnaryOp) throws -> Tensor {
            let out = try make(op.name) { ts_unary(op.code, h, $0) }
            OpRecorder.note(op.name, [t], out)
            return out
        }
        public func compare(_ op: CompareOp, _ o: Tensor) throws -> Tensor { try make(op.name) { ts_compare(op.code, h, o.handle, $0) } }
        public func compare(_ op: CompareOp, _ s: Double) throws -> Tensor { try make(op.name) { ts_compare_scalar(op.code, h, s, $0) } }
        public func maximum(_ o: Tensor) throws -> Tensor {
            let out = try make("maximum") { ts_maximum(h, o.handle, $0) }
            OpRecorder.note("maximum", [t, o], out)
            return out
        }
        public func minimum(_ o: Tensor) throws -> Tensor {
            let out = try make("minimum") { ts_minimum(h, o.handle, $0) }
            OpRecorder.note("minimum", [t, o], out)
            return out
        }

        // MARK: in-place (explicit)

        public func copy_(_ src: Tensor) throws { try check("copy_", ts_copy_(h, src.handle)) }
        public func zero_() throws { try check("zero_", ts_zero_(h)) }
        public func fill_(_ v: Double) throws { try check("fill_", ts_fill_(h, v)) }
        public func add_(_ o: Tensor, alpha: Double = 1) throws { try check("add_", ts_add_(h, o.handle, alpha)) }
        public func mul_(_ o: Tensor) throws { try check("mul_", ts_mul_(h, o.handle)) }
        public func mul_(_ s: Double) throws { try check("mul_", ts_mul_scalar_(h, s)) }
        public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double) throws { try check("addcmul_", ts_addcmul_(h, a.handle, b.handle, value)) }
        public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double) throws { try check("addcdiv_", ts_addcdiv_(h, a.handle, b.handle, value)) }
        public func lerp_(_ end: Tensor, weight: Double) throws { try check("lerp_", ts_lerp_(h, end.handle, weight)) }
        public func uniform_(_ lo: Double, _ hi: Double) throws { try check("uniform_", ts_uniform_(h, lo, hi)) }
        public func normal_(mean: Double, std: Double) throws { try check("normal_", ts_normal_(h, mean, std)) }
        public func truncNormal_(mean: Double, std: Double, a: Double, b: Double) throws {
            try check("trunc_normal_", ts_trunc_normal_(h, mean, std, a, b))
        }

        // MARK: reductions

        public func sum(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("sum") { ts_sum(h, s, n, keepDim ? 1 : 0, $0) } }
        }
        public func mean(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("mean") { ts_mean(h, s, n, keepDim ? 1 : 0, $0) } }
        }
        public func variance(_ dims: [Int] = [], unbiased: Bool = true, keepDim: Bool = false) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("var") { ts_var(h, s, n, unbiased ? 1 : 0, keepDim ? 1 : 0, $0) } }
        }
        public func amax(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("amax") { ts_amax(h, s, n, keepDim ? 1 : 0, $0) } }
        }
        public func amin(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
            try withInt64s(dims) { s, n in try make("amin") { ts_amin(h, s, n, keepDim ? 1 : 0, $0) } }
        }
        public func max(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
            var v: ts_tensor? = nil, i: ts_tensor? = nil
            try check("max", ts_max_dim(h, Int64(dim), keepDim ? 1 : 0, &v, &i))
            return (Tensor(owning: v!), Tensor(owning: i!))
        }
        public func min(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
            var v: ts_tensor? = nil, i: ts_tensor? = nil
            try check("min", ts_min_dim(h, Int64(dim), keepDim ? 1 : 0, &v, &i))
            return (Tensor(owning: v!), Tensor(owning: i!))
        }
        public func argmax(dim: Int, keepDim: Bool = false) throws -> Tensor {
            try make("argmax") { ts_argmax(h, Int64(dim), keepDim ? 1 : 0, $0) }
        }
        public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
            var v: ts_tensor? = nil, i: ts_tensor? = nil
            try check("topk", ts_topk(h, Int64(k), Int64(dim), largest ? 1 : 0, &v, &i))
            return (Tensor(owning: v!), Tensor(owning: i!))
        }
        public func norm(_ p: Double = 2) throws -> Tensor { try make("norm") { ts_norm(h, p, $0) } }
        public func bincount(weights: Tensor? = nil, minLength: Int = 0) throws -> Tensor {
            try make("bincount") { ts_bincount(h, weights?.handle, Int64(minLength), $0) }
        }
        public func allFinite() throws -> Bool {
            var r: Int32 = 0
            try check("isfinite", ts_all_finite(h, &r))
            return r != 0
        }

        // MARK: linear algebra

        public func matmul(_ o: Tensor) throws -> Tensor {
            let out = try make("matmul") { ts_matmul(h, o.handle, $0) }
            OpRecorder.note("matmul", [t, o], out)
            return out
        }
        public func bmm(_ o: Tensor) throws -> Tensor {
            let out = try make("bmm") { ts_bmm(h, o.handle, $0) }
            OpRecorder.note("bmm", [t, o], out)
            return out
        }

        // MARK: reading back

        public func host() throws -> HostTensor {
            let n = t.count * t.dtype.elementSize
            var data = Data(count: n)
            try data.withUnsafeMutableBytes { raw in
                try check("to_host", ts_copy_to_host(h, raw.baseAddress, n))
            }
            return HostTensor(dtype: t.dtype, shape: t.shape, bytes: data)
        }
        public func toArray<T: TensorElement>(_ type: T.Type) throws -> [T] {
            let src = t.dtype == T.dtype ? t : try to(dtype: T.dtype)
            let n = src.count
            return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
                try check("to_array", ts_copy_to_host(src.handle, buffer.baseAddress, n * MemoryLayout<T>.stride))
                initialized = n
            }
        }
        public func item() throws -> Double {
            var v = 0.0
            try check("item", ts_item_double(h, &v))
            return v
        }
        public func itemInt() throws -> Int {
            var v: Int64 = 0
            try check("item", ts_item_int64(h, &v))
            return Int(v)
        }
    }
}
