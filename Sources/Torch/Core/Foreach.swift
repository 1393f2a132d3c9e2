// ATen's multi-tensor ops (`torch._foreach_*`): one call for a list of tensors on one device with one dtype.
// On CUDA each is a handful of kernel launches for the whole list instead of one per tensor; on the CPU ATen
// loops over the tensors with the single-tensor op, so results equal the per-tensor forms bit for bit.
// In-place forms end in `_`. Lists given together must have equal lengths.

import CTorch

public enum Foreach {
    public static func add_(_ ts: [Tensor], _ s: Double) throws {
        try withHandles(ts) { p, n in try Tensor.check("_foreach_add_", ts_foreach_add_scalar_(p, n, s)) }
    }
    public static func mul_(_ ts: [Tensor], _ s: Double) throws {
        try withHandles(ts) { p, n in try Tensor.check("_foreach_mul_", ts_foreach_mul_scalar_(p, n, s)) }
    }
    /// Multiplies by a one-element tensor (no host sync for a device-side factor).
    public static func mul_(_ ts: [Tensor], _ s: Tensor) throws {
        try withHandles(ts) { p, n in try Tensor.check("_foreach_mul_", ts_foreach_mul_tensor_(p, n, s.handle)) }
    }
    /// ts[i] += alpha * others[i]
    public static func add_(_ ts: [Tensor], _ others: [Tensor], alpha: Double = 1) throws {
        try pairs("_foreach_add_", ts, others) { p, q, n in ts_foreach_add_list_(p, q, n, alpha) }
    }
    /// ts[i] + alpha * others[i], as new tensors.
    public static func add(_ ts: [Tensor], _ others: [Tensor], alpha: Double = 1) throws -> [Tensor] {
        var outs = [ts_tensor?](repeating: nil, count: ts.count)
        try pairs("_foreach_add", ts, others) { p, q, n in ts_foreach_add_list(p, q, n, alpha, &outs) }
        return outs.map { Tensor(owning: $0!) }
    }
    /// ts[i] += weight * (ends[i] - ts[i])
    public static func lerp_(_ ts: [Tensor], _ ends: [Tensor], weight: Double) throws {
        try pairs("_foreach_lerp_", ts, ends) { p, q, n in ts_foreach_lerp_scalar_(p, q, n, weight) }
    }
    /// ts[i] += value * a[i] * b[i]
    public static func addcmul_(_ ts: [Tensor], _ a: [Tensor], _ b: [Tensor], value: Double) throws {
        try triples("_foreach_addcmul_", ts, a, b) { p, q, r, n in ts_foreach_addcmul_scalar_(p, q, r, n, value) }
    }
    /// ts[i] += values[i] * a[i] / b[i]
    public static func addcdiv_(_ ts: [Tensor], _ a: [Tensor], _ b: [Tensor], values: [Double]) throws {
        try checkCount("_foreach_addcdiv_", ts, values.count)
        try triples("_foreach_addcdiv_", ts, a, b) { p, q, r, n in ts_foreach_addcdiv_scalarlist_(p, q, r, n, values) }
    }
    /// ts[i] /= values[i]
    public static func div_(_ ts: [Tensor], _ values: [Double]) throws {
        try checkCount("_foreach_div_", ts, values.count)
        try withHandles(ts) { p, n in try Tensor.check("_foreach_div_", ts_foreach_div_scalarlist_(p, n, values)) }
    }
    public static func sqrt(_ ts: [Tensor]) throws -> [Tensor] {
        var outs = [ts_tensor?](repeating: nil, count: ts.count)
        try withHandles(ts) { p, n in try Tensor.check("_foreach_sqrt", ts_foreach_sqrt(p, n, &outs)) }
        return outs.map { Tensor(owning: $0!) }
    }
    /// The `p`-norm of each tensor (0-dim tensors).
    public static func norm(_ ts: [Tensor], _ p: Double = 2) throws -> [Tensor] {
        var outs = [ts_tensor?](repeating: nil, count: ts.count)
        try withHandles(ts) { h, n in try Tensor.check("_foreach_norm", ts_foreach_norm(h, n, p, &outs)) }
        return outs.map { Tensor(owning: $0!) }
    }

    // MARK: plumbing

    static func checkCount(_ op: String, _ ts: [Tensor], _ n: Int) throws {
        guard ts.count == n else { throw TorchError(op, "lists of different lengths (\(ts.count) and \(n))", kind: .value) }
    }

    static func pairs(_ op: String, _ a: [Tensor], _ b: [Tensor],
                      _ call: (UnsafePointer<ts_tensor?>, UnsafePointer<ts_tensor?>, Int32) -> ts_error?) throws {
        try checkCount(op, a, b.count)
        try withHandles(a) { p, n in try withHandles(b) { q, _ in try Tensor.check(op, call(p, q, n)) } }
    }

    static func triples(_ op: String, _ a: [Tensor], _ b: [Tensor], _ c: [Tensor],
                        _ call: (UnsafePointer<ts_tensor?>, UnsafePointer<ts_tensor?>, UnsafePointer<ts_tensor?>, Int32) -> ts_error?) throws {
        try checkCount(op, a, b.count)
        try checkCount(op, a, c.count)
        try withHandles(a) { p, n in
            try withHandles(b) { q, _ in try withHandles(c) { r, _ in try Tensor.check(op, call(p, q, r, n)) } }
        }
    }
}
