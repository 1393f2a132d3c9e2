import Foundation
import TorchIO
import Testing
@testable import Torch

/// Tensor operations against hand-computed values and PyTorch fixtures (Resources/pytorch/tensor_ops, dtypes).
@Suite("TensorOps")
struct TensorOpsTests {
    /// 0, 1, ..., 23 as a [2, 3, 4] float tensor: element [i, j, k] = 12i + 4j + k.
    func grid() -> Tensor { Tensor.arange(0, 24, dtype: .float32).reshape(2, 3, 4) }

    // MARK: creation

    @Test func factories() {
        let z = Tensor.zeros([2, 3])
        #expect(z.shape == [2, 3] && z.dtype == .float32 && z.device == .cpu)
        expectValues(z, [Double](repeating: 0, count: 6))
        expectValues(Tensor.ones([2, 2], dtype: .int64), [1, 1, 1, 1], shape: [2, 2])
        let f = Tensor.full([3], 7.5, dtype: .float64)
        #expect(f.dtype == .float64)
        expectValues(f, [7.5, 7.5, 7.5])
        #expect(Tensor.empty([4, 0, 2]).count == 0)
    }

    @Test func rangesAndScalars() {
        let a = Tensor.arange(0, 5)
        #expect(a.dtype == .int64)
        #expect(a.toArray(Int64.self) == [0, 1, 2, 3, 4])
        expectValues(Tensor.arange(1, 2, step: 0.25, dtype: .float32), [1, 1.25, 1.5, 1.75])
        expectValues(Tensor.linspace(0, 1, steps: 5), [0, 0.25, 0.5, 0.75, 1])
        expectValues(Tensor.linspace(-2, 2, steps: 3, dtype: .float64), [-2, 0, 2])
        let s = Tensor.scalar(3.5)
        #expect(s.rank == 0 && s.shape == [] && s.count == 1)
        #expect(s.item() == 3.5)
        #expect(Tensor.scalar(-4, dtype: .int64).itemInt() == -4)
        #expect(Tensor([Float(2.5)]).item() == 2.5)
    }

    @Test func arraysRoundTrip() {
        let f = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        #expect(f.shape == [2, 3] && f.dtype == .float32)
        #expect(f.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
        #expect(Tensor([1.5, -2.25] as [Double]).toArray(Double.self) == [1.5, -2.25])
        #expect(Tensor([Int64.max, -7] as [Int64]).toArray(Int64.self) == [Int64.max, -7])
        #expect(Tensor([3, -9] as [Int32]).toArray(Int32.self) == [3, -9])
        #expect(Tensor([0, 255, 17] as [UInt8]).toArray(UInt8.self) == [0, 255, 17])
        #expect(Tensor([true, false, true]).toArray(Bool.self) == [true, false, true])
        // Reading back converts: floats truncate toward zero like `.long()`.
        #expect(Tensor([1.9, -1.9] as [Float]).toArray(Int64.self) == [1, -1])
        // A non-contiguous view reads back in logical order.
        #expect(f.transpose(0, 1).toArray(Float.self) == [1, 4, 2, 5, 3, 6])
    }

    // MARK: shape ops

    @Test func reshapeViewFlatten() {
        let g = grid()
        #expect(g.reshape([4, 6]).shape == [4, 6])
        #expect(g.reshape([-1, 8]).shape == [3, 8])
        expectValues(g.view([6, 4]).select(0, 5), [20, 21, 22, 23])
        #expect(g.flatten(start: 1).shape == [2, 12])
        #expect(g.flatten().shape == [24])
        expectValues(g.flatten(), (0..<24).map(Double.init))
    }

    @Test func permuteTransposeContiguous() {
        let g = grid()
        let p = g.permute(2, 0, 1)  // [k, i, j] = 12i + 4j + k
        #expect(p.shape == [4, 2, 3])
        #expect(!p.isContiguous)
        expectValues(p.select(0, 1), [1, 5, 9, 13, 17, 21])
        let t = g.transpose(0, 2)  // [k, j, i]
        #expect(t.shape == [4, 3, 2])
        expectValues(t.select(0, 3).select(0, 2), [11, 23])
        let c = t.contiguous()
        #expect(c.isContiguous && c.strides == [6, 2, 1])
        #expect(doubles(c) == doubles(t))
        #expect(g.contiguous() === g)  // already contiguous: no copy
    }

    @Test func squeezeUnsqueezeExpand() {
        let g = grid()
        let u = g.unsqueeze(1)
        #expect(u.shape == [2, 1, 3, 4])
        #expect(u.squeeze(1).shape == [2, 3, 4])
        #expect(g.squeeze(0).shape == [2, 3, 4])  // not of size 1: unchanged, as PyTorch
        #expect(g.unsqueeze(-1).shape == [2, 3, 4, 1])
        let col = Tensor([1, 2, 3] as [Float], shape: [3, 1])
        let e = col.expand([3, 4])
        #expect(e.shape == [3, 4] && e.strides == [1, 0])
        expectValues(e, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
        expectValues(col.expand([2, -1, 2]), [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], shape: [2, 3, 2])
        expectValues(Tensor([1, 2] as [Float]).repeated([2, 2]), [1, 2, 1, 2, 1, 2, 1, 2], shape: [2, 4])
    }

    @Test func catStackSplitChunk() {
        let a = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]), b = Tensor([5, 6] as [Float], shape: [1, 2])
        expectValues(Tensor.cat([a, b], dim: 0), [1, 2, 3, 4, 5, 6], shape: [3, 2])
        expectValues(Tensor.cat([a, a.transpose(0, 1)], dim: 1), [1, 2, 1, 3, 3, 4, 2, 4], shape: [2, 4])
        expectValues(Tensor.stack([a, a * 10]), [1, 2, 3, 4, 10, 20, 30, 40], shape: [2, 2, 2])
        expectValues(Tensor.stack([a, a * 10], dim: 2), [1, 10, 2, 20, 3, 30, 4, 40], shape: [2, 2, 2])
        let parts = grid().split(sizes: [1, 2], dim: 1)
        #expect(parts.map(\.shape) == [[2, 1, 4], [2, 2, 4]])
        expectValues(parts[1].select(0, 0).select(0, 1), [8, 9, 10, 11])
        // torch.chunk: ceil(size / chunks) per piece, so 4 in 3 chunks gives two of 2, and 5 gives 2, 2, 1.
        #expect(grid().chunk(3, dim: 2).map(\.shape) == [[2, 3, 2], [2, 3, 2]])
        let five = Tensor.arange(0, 5, dtype: .float32)
        #expect(five.chunk(3, dim: 0).map { doubles($0) } == [[0, 1], [2, 3], [4]])
    }

    @Test func narrowSliceSelectShareStorage() {
        let g = grid()
        expectValues(g.narrow(2, start: 1, length: 2).select(0, 0), [1, 2, 5, 6, 9, 10], shape: [3, 2])
        expectValues(g.slice(2, start: 0, end: 4, step: 2).select(0, 1), [12, 14, 16, 18, 20, 22])
        expectValues(g.slice(1, start: -2, end: 3).select(0, 0), [4, 5, 6, 7, 8, 9, 10, 11])
        expectValues(g[1][2], [20, 21, 22, 23])
        // Views alias the base tensor: an in-place write through a view shows in the base.
        let base = Tensor.zeros([3, 4])
        base.narrow(1, start: 1, length: 2).fill_(5)
        expectValues(base.select(0, 2), [0, 5, 5, 0])
        base.transpose(0, 1).select(0, 3).fill_(-1)  // column 3
        expectValues(base.select(0, 0), [0, 5, 5, -1])
    }

    @Test func indexSelectMaskedFillWhere() {
        let g = grid()
        let idx = Tensor([2, 0] as [Int64])
        expectValues(g.indexSelect(1, idx).select(0, 0), [8, 9, 10, 11, 0, 1, 2, 3])
        // On a transposed view: rows of the view are columns of the base.
        let m = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        expectValues(m.transpose(0, 1).indexSelect(0, idx), [3, 6, 1, 4], shape: [2, 2])
        let mask = Tensor([true, false, true], shape: [1, 3])  // broadcast over rows
        expectValues(m.maskedFill(mask, -1), [-1, 2, -1, -1, 5, -1])
        let cond = Tensor([false, true], shape: [2, 1])
        expectValues(Tensor.where(cond, m, Tensor.scalar(0)), [0, 0, 0, 4, 5, 6])
        expectValues(m.gather(1, Tensor([2, 0, 1, 1] as [Int64], shape: [2, 2])), [3, 1, 5, 5])
    }

    // MARK: arithmetic and comparisons

    @Test func arithmeticBroadcastingMatchesPyTorch() throws {
        let f = try PyTorchFixture("tensor_ops")
        let a = try f["arith.a"], b = try f["arith.b"]  // [3, 1, 4] and [2, 4] -> [3, 2, 4]
        expectClose(a + b, try f["arith.add"], rtol: 0, atol: 0, "add")
        expectClose(a - b, try f["arith.sub"], rtol: 0, atol: 0, "sub")
        expectClose(a * b, try f["arith.mul"], rtol: 0, atol: 0, "mul")
        expectClose(a / b, try f["arith.div"], rtol: 1e-7, atol: 0, "div")
        expectClose((a * 2.5 + 1) / 4 - 0.5, try f["arith.scalar"], rtol: 1e-7, atol: 1e-7, "scalars")
        expectClose(3 - a, try f["arith.rsub"], rtol: 0, atol: 0, "rsub")
        expectClose(-a, try f["arith.neg"], rtol: 0, atol: 0, "neg")
        expectClose(a.abs().pow(1.7), try f["arith.pow_scalar"], "pow scalar")
        expectClose(a.abs().pow(b.abs()), try f["arith.pow_tensor"], "pow tensor")
        expectClose(a.clamp(min: -0.5, max: 0.7), try f["arith.clamp"], rtol: 0, atol: 0, "clamp")
        expectClose(a.clamp(min: 0.1), try f["arith.clamp_min"], rtol: 0, atol: 0, "clamp min")
        expectClose(a.maximum(b), try f["arith.maximum"], rtol: 0, atol: 0, "maximum")
        expectClose(a.minimum(b), try f["arith.minimum"], rtol: 0, atol: 0, "minimum")
        // A non-contiguous operand gives the same result as its contiguous copy.
        let bt = b.transpose(0, 1).contiguous().transpose(0, 1)
        #expect(!bt.isContiguous)
        expectClose(a * bt, try f["arith.mul"], rtol: 0, atol: 0, "mul with a transposed view")
    }

    @Test func arithmeticByHand() {
        let t = Tensor([1, 2, 3] as [Float])
        expectValues(t + 1, [2, 3, 4])
        expectValues(2 - t, [1, 0, -1])
        expectValues(t * t, [1, 4, 9])
        expectValues(t / 2, [0.5, 1, 1.5])
        expectValues(1 + t * 2, [3, 5, 7])
        expectValues(t - 0.5, [0.5, 1.5, 2.5])
        // Integer tensors stay integer under integer arithmetic; division is true division.
        let i = Tensor([3, 4] as [Int64])
        #expect((i + i).dtype == .int64)
        #expect((i / Tensor([2, 8] as [Int64])).toArray(Float.self) == [1.5, 0.5])
        // Broadcasting [2, 1] with [3] gives [2, 3].
        expectValues(Tensor([10, 20] as [Float], shape: [2, 1]) + t, [11, 12, 13, 21, 22, 23], shape: [2, 3])
    }

    @Test func comparisons() throws {
        let f = try PyTorchFixture("tensor_ops")
        let a = try f["arith.a"], b = try f["arith.b"]
        let lt = a .< b
        #expect(lt.dtype == .bool)
        #expect(lt.toArray(Bool.self) == (try f["cmp.lt"]).toArray(Bool.self))
        #expect((a .>= b).toArray(Bool.self) == (try f["cmp.ge"]).toArray(Bool.self))
        #expect(((a * 2).round() .== 1).toArray(Bool.self) == (try f["cmp.eq_scalar"]).toArray(Bool.self))
        let t = Tensor([1, 2, 3] as [Float]), u = Tensor([3, 2, 1] as [Float])
        #expect((t .== u).toArray(Bool.self) == [false, true, false])
        #expect((t .!= u).toArray(Bool.self) == [true, false, true])
        #expect((t .<= 2).toArray(Bool.self) == [true, true, false])
        #expect((t .> 2).toArray(Bool.self) == [false, false, true])
        #expect(((t .> 1) .& (u .> 1)).toArray(Bool.self) == [false, true, false])
        #expect(((t .> 2) .| (u .> 2)).toArray(Bool.self) == [true, false, true])
        #expect((t .> 1).logicalNot().toArray(Bool.self) == [true, false, false])
    }

    @Test func unaryOps() throws {
        let f = try PyTorchFixture("tensor_ops")
        let x = try f["unary.x"], pos = x.abs() + 0.1
        expectClose(x.abs(), try f["unary.abs"], rtol: 0, atol: 0, "abs")
        expectClose(x.exp(), try f["unary.exp"], rtol: 1e-6, atol: 0, "exp")
        expectClose(pos.log(), try f["unary.log"], rtol: 1e-6, atol: 1e-7, "log")
        expectClose(pos.sqrt(), try f["unary.sqrt"], rtol: 1e-7, atol: 0, "sqrt")
        expectClose(x.tanh(), try f["unary.tanh"], rtol: 1e-6, atol: 1e-7, "tanh")
        expectClose(F.sigmoid(x), try f["unary.sigmoid"], rtol: 1e-6, atol: 1e-7, "sigmoid")
        let xt = (try f["unary.xt"]).transpose(0, 1)  // a non-contiguous view equal to x
        expectClose(xt.exp(), try f["unary.exp"], rtol: 1e-6, atol: 0, "exp of a view")
        expectClose((try f["unary.xt"]).exp().transpose(0, 1), xt.exp(), rtol: 0, atol: 0, "exp commutes with transpose")
        // Known values.
        let v = Tensor([-2, 0, 4] as [Float])
        expectValues(v.abs(), [2, 0, 4])
        expectClose(Tensor([0, 1] as [Float]).exp(), Tensor([1, M_E] as [Double]), rtol: 1e-7, atol: 0, "exp")
        expectValues(Tensor([1, 4, 9] as [Float]).sqrt(), [1, 2, 3])
        expectValues(Tensor([1] as [Float]).log(), [0])
        expectValues(Tensor([2, 3] as [Float]).pow(2), [4, 9])
        expectValues(v.clamp(min: -1, max: 1), [-1, 0, 1])
        expectValues(v.clamp(max: 0), [-2, 0, 0])
        expectValues(Tensor([-1.5, 1.5, 2.5] as [Float]).round(), [-2, 2, 2])  // half to even
        expectValues(Tensor([-1.5, 1.5] as [Float]).floor(), [-2, 1])
        expectValues(Tensor([4] as [Float]).rsqrt(), [0.5])
    }

    // MARK: reductions

    @Test func reductionsMatchPyTorch() throws {
        let f = try PyTorchFixture("tensor_ops")
        let x = try f["red.x"]
        expectClose(x.sum(), try f["red.sum_all"], rtol: 1e-6, atol: 1e-6, "sum")
        expectClose(x.sum(dim: 1), try f["red.sum_1"], rtol: 1e-6, atol: 1e-6, "sum(1)")
        expectClose(x.sum([0, 2], keepDim: true), try f["red.sum_02_keep"], rtol: 1e-6, atol: 1e-6, "sum((0,2), keepdim)")
        expectClose(x.mean(dim: -1, keepDim: true), try f["red.mean_last_keep"], rtol: 1e-6, atol: 1e-7, "mean(-1, keepdim)")
        expectClose(x.mean(), try f["red.mean_all"], rtol: 1e-6, atol: 1e-7, "mean")
        expectClose(x.amax([1]), try f["red.amax_1"], rtol: 0, atol: 0, "amax")
        expectClose(x.amin([0, 2]), try f["red.amin_02"], rtol: 0, atol: 0, "amin")
        let mx = x.max(dim: 2), mn = x.min(dim: 0)
        expectClose(mx.values, try f["red.max2_values"], rtol: 0, atol: 0, "max values")
        #expect(mx.indices.dtype == .int64)
        #expect(mx.indices.toArray(Int64.self) == (try f["red.max2_indices"]).toArray(Int64.self))
        expectClose(mn.values, try f["red.min0_values"], rtol: 0, atol: 0, "min values")
        #expect(mn.indices.toArray(Int64.self) == (try f["red.min0_indices"]).toArray(Int64.self))
        #expect(x.argmax(dim: 1).toArray(Int64.self) == (try f["red.argmax_1"]).toArray(Int64.self))
        let keep = x.argmax(dim: 1, keepDim: true)
        #expect(keep.shape == [3, 1, 5])
        #expect(keep.toArray(Int64.self) == (try f["red.argmax_1_keep"]).toArray(Int64.self))
        expectClose(x.transpose(0, 2).sum(dim: 1), try f["red.sum_1_of_transpose"], rtol: 1e-6, atol: 1e-6, "sum of a view")
    }

    @Test func reductionsByHand() {
        let m = Tensor([1, 5, 2, 8, 3, 4] as [Float], shape: [2, 3])
        expectValues(m.sum(), [23])
        expectValues(m.sum(dim: 0), [9, 8, 6], shape: [3])
        expectValues(m.sum(dim: 1, keepDim: true), [8, 15], shape: [2, 1])
        expectValues(m.mean(dim: 1), [8.0 / 3, 5].map { Double(Float($0)) })
        expectValues(m.max(), [8])
        expectValues(m.min(), [1])
        let (v, i) = m.max(dim: 1)
        expectValues(v, [5, 8])
        #expect(i.toArray(Int64.self) == [1, 0])
        #expect(m.argmax(dim: 0).toArray(Int64.self) == [1, 0, 1])
        #expect(m.min(dim: 0).indices.toArray(Int64.self) == [0, 1, 0])
        expectValues(m.transpose(0, 1).sum(dim: 1), [9, 8, 6])
        expectValues(Tensor([3, 4] as [Float]).norm(), [5])
        expectClose(Tensor([1, 2, 3, 4] as [Float]).variance(), Tensor([5.0 / 3] as [Double]).reshape([]), rtol: 1e-6, atol: 0, "var")
    }

    // MARK: linear algebra

    @Test func matmulBmmEinsum() throws {
        let f = try PyTorchFixture("tensor_ops")
        let a = try f["mm.a"], b = try f["mm.b"]
        expectClose(a.matmul(b), try f["mm.ab"], rtol: 1e-6, atol: 1e-6, "matmul")
        expectClose((try f["mm.at"]).transpose(0, 1).matmul(b), try f["mm.ab"], rtol: 1e-6, atol: 1e-6, "matmul of a transposed view")
        let ba = try f["mm.batched_a"], bb = try f["mm.batched_b"]
        expectClose(ba.bmm(bb), try f["mm.bmm"], rtol: 1e-6, atol: 1e-6, "bmm")
        expectClose(ba.matmul(b), try f["mm.broadcast"], rtol: 1e-6, atol: 1e-6, "broadcast matmul")
        expectClose(Tensor.einsum("bhqd,bhkd->bhqk", try f["mm.q"], try f["mm.k"]), try f["mm.einsum_qk"],
                    rtol: 1e-5, atol: 1e-6, "einsum qk")
        expectClose(Tensor.einsum("ij->ji", a), try f["mm.einsum_t"], rtol: 0, atol: 0, "einsum transpose")
        // By hand: [[1, 2], [3, 4]] x [[5], [6]] = [[17], [39]].
        let m = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        expectValues(m.matmul(Tensor([5, 6] as [Float], shape: [2, 1])), [17, 39], shape: [2, 1])
        expectValues(Tensor.einsum("ij,ij->", m, m), [30])
    }

    @Test func bincount() {
        let x = Tensor([1, 1, 3, 0, 3, 3] as [Int64])
        #expect(x.bincount().toArray(Int64.self) == [1, 2, 0, 3])
        #expect(x.bincount(minLength: 6).toArray(Int64.self) == [1, 2, 0, 3, 0, 0])
        let w = Tensor([0.5, 1, 1, 2, 0.25, 0.25] as [Double])
        expectValues(x.bincount(weights: w), [2, 1.5, 0, 1.5])
        // The confusion-matrix idiom: n * target + prediction.
        let target = Tensor([0, 1, 1, 2] as [Int64]), pred = Tensor([0, 1, 2, 2] as [Int64])
        #expect((target * 3.0 + pred).to(.int64).bincount(minLength: 9).toArray(Int64.self) == [1, 0, 0, 0, 1, 1, 0, 0, 1])
    }

    // MARK: dtypes

    @Test func dtypeConversionsMatchPyTorch() throws {
        let f = try PyTorchFixture("dtypes")
        let x = try f["x"]
        // Half and bfloat16 rounding: the same bits as PyTorch.
        #expect(try x.to(.float16).host() == (try f["f16"]).host())
        #expect(try x.to(.bfloat16).host() == (try f["bf16"]).host())
        #expect(x.to(.float16).to(.float32).toArray(Float.self) == (try f["f16_back"]).toArray(Float.self))
        #expect(x.to(.bfloat16).to(.float32).toArray(Float.self) == (try f["bf16_back"]).toArray(Float.self))
        #expect(x.to(.int64).toArray(Int64.self) == (try f["i64"]).toArray(Int64.self))
        #expect(x.to(.int32).toArray(Int32.self) == (try f["i32"]).toArray(Int32.self))
        #expect(x.to(.bool).toArray(Bool.self) == (try f["bool"]).toArray(Bool.self))
        #expect((try f["u8_src"]).to(.uint8).toArray(UInt8.self) == (try f["u8"]).toArray(UInt8.self))
    }

    @Test func dtypeConversionsByHand() throws {
        let x = Tensor([1.5, -2.7, 0, 255] as [Float])
        #expect(x.to(.int64).toArray(Int64.self) == [1, -2, 0, 255])
        #expect(x.to(.int32).dtype == .int32)
        #expect(x.to(.bool).toArray(Bool.self) == [true, true, false, true])
        #expect(Tensor([0, 200] as [UInt8]).to(.float32).toArray(Float.self) == [0, 200])
        #expect(Tensor([true, false]).to(.float32).toArray(Float.self) == [1, 0])
        // 1/3 in half precision is 0.333251953125 (10-bit mantissa); bfloat16 keeps 8 bits: 0.333984375.
        let third = Tensor([Float(1.0 / 3.0)])
        #expect(third.to(.float16).to(.float64).item() == 0.333251953125)
        #expect(third.to(.bfloat16).to(.float64).item() == 0.333984375)
        #expect(x.to(.float16).dtype == .float16)
        #expect(try x.to(.float16).host().bytes.count == 8)
        #expect(x.to(.float32) === x)  // same dtype: no copy
        for dtype in DType.allCases {
            #expect(Tensor.zeros([2], dtype: dtype).dtype == dtype, "zeros of \(dtype)")
        }
    }
}

@Suite("TensorOps overhead")
struct OpOverheadTests {
    @Test("the overhead benchmark times the same op through Swift and through the C shim")
    func measures() {
        let r = OpOverhead.measure(iterations: 2000)
        #expect(r.swiftNanosPerOp > 0 && r.rawNanosPerOp > 0)
        #expect(r.swiftNanosPerOp.isFinite && r.rawNanosPerOp.isFinite)
    }
}
