import Foundation
import TorchIO
import Testing
@testable import Torch

/// `Functional` against PyTorch (Resources/pytorch/functional.safetensors) and known values.
@Suite("Functional")
struct FunctionalTests {
    let f: PyTorchFixture

    init() throws { f = try PyTorchFixture("functional") }

    @Test func conv2dStridePaddingDilationGroups() throws {
        let x = try f["conv.x"], w = try f["conv.w"], b = try f["conv.b"]
        let out = F.conv2d(x, weight: w, bias: b, stride: (2, 1), padding: (1, 2), dilation: (2, 1), groups: 2)
        expectClose(out, try f["conv.out"], rtol: 1e-5, atol: 1e-5, "grouped, strided, dilated")
        expectClose(F.conv2d(x, weight: try f["conv.w2"]), try f["conv.out_plain"], rtol: 1e-5, atol: 1e-5, "plain")
        expectClose(F.conv2d(x, weight: try f["conv.wd"], padding: (1, 1), groups: 4), try f["conv.out_depthwise"],
                    rtol: 1e-5, atol: 1e-5, "depth-wise")
        // The same input as a permuted (channels-last, non-contiguous) view.
        let view = (try f["conv.x_nhwc"]).permute(0, 3, 1, 2)
        #expect(!view.isContiguous)
        expectClose(F.conv2d(view, weight: w, bias: b, stride: (2, 1), padding: (1, 2), dilation: (2, 1), groups: 2),
                    try f["conv.out"], rtol: 1e-5, atol: 1e-5, "non-contiguous input")
        // Known value: a 3x3 box filter on ones with zero padding counts the neighbours inside the image.
        let box = F.conv2d(Tensor.ones([1, 1, 3, 3]), weight: Tensor.ones([1, 1, 3, 3]), padding: (1, 1))
        expectValues(box, [4, 6, 4, 6, 9, 6, 4, 6, 4], shape: [1, 1, 3, 3])
    }

    @Test func linear() throws {
        let x = try f["linear.x"], w = try f["linear.w"], b = try f["linear.b"]
        expectClose(F.linear(x, weight: w, bias: b), try f["linear.out"], rtol: 1e-5, atol: 1e-6, "with bias")
        expectClose(F.linear(x, weight: w), try f["linear.out_nobias"], rtol: 1e-5, atol: 1e-6, "without bias")
        expectClose(F.linear((try f["linear.xt"]).transpose(1, 2), weight: w, bias: b), try f["linear.out"],
                    rtol: 1e-5, atol: 1e-6, "transposed input")
        // y = x Wᵀ + b by hand.
        let y = F.linear(Tensor([1, 2] as [Float], shape: [1, 2]), weight: Tensor([1, 0, 1, 1] as [Float], shape: [2, 2]),
                         bias: Tensor([0.5, -1] as [Float]))
        expectValues(y, [1.5, 2], shape: [1, 2])
    }

    @Test func layerNorm() throws {
        let x = try f["ln.x"]
        expectClose(F.layerNorm(x, shape: [8], weight: try f["ln.w"], bias: try f["ln.b"]), try f["ln.out"],
                    rtol: 1e-5, atol: 1e-5, "affine")
        expectClose(F.layerNorm(x, shape: [8], weight: nil, bias: nil), try f["ln.out_noaffine"], rtol: 1e-5, atol: 1e-5, "plain")
        expectClose(F.layerNorm(x, shape: [3, 8], weight: nil, bias: nil, eps: 1e-6), try f["ln.out_2d"],
                    rtol: 1e-5, atol: 1e-5, "over two dims")
        // Each row is normalised to mean 0, (biased) variance 1.
        let n = F.layerNorm(Tensor([1, 2, 3, 4] as [Float], shape: [1, 4]), shape: [4], weight: nil, bias: nil, eps: 0)
        expectClose(n, Tensor([-3, -1, 1, 3] as [Float], shape: [1, 4]) / 5.0.squareRoot(), rtol: 1e-6, atol: 1e-6, "by hand")
    }

    @Test("batch_norm: training uses batch statistics and updates running stats; eval uses them")
    func batchNorm() throws {
        let rm = (try f["bn.rm0"]).clone(), rv = (try f["bn.rv0"]).clone()
        let w = try f["bn.w"], b = try f["bn.b"]
        let train = F.batchNorm(try f["bn.x"], runningMean: rm, runningVar: rv, weight: w, bias: b, training: true)
        expectClose(train, try f["bn.out_train"], rtol: 1e-5, atol: 1e-5, "train output")
        expectClose(rm, try f["bn.rm1"], rtol: 1e-6, atol: 1e-6, "running mean (momentum 0.1)")
        expectClose(rv, try f["bn.rv1"], rtol: 1e-6, atol: 1e-6, "running var (unbiased)")
        let eval = F.batchNorm(try f["bn.x2"], runningMean: rm, runningVar: rv, weight: w, bias: b, training: false)
        expectClose(eval, try f["bn.out_eval"], rtol: 1e-5, atol: 1e-5, "eval output")
        expectClose(rm, try f["bn.rm1"], rtol: 0, atol: 0, "eval leaves running mean alone")

        // The module: train mode counts batches and moves the statistics; eval mode does neither.
        let bn = BatchNorm2d(3)
        Torch.noGrad {
            bn.weight.copy_(w)
            bn.bias.copy_(b)
            bn.runningMean.copy_(try! f["bn.rm0"])
            bn.runningVar.copy_(try! f["bn.rv0"])
        }
        expectClose(bn(try f["bn.x"]), try f["bn.out_train"], rtol: 1e-5, atol: 1e-5, "module train")
        #expect(bn.numBatchesTracked.itemInt() == 1)
        expectClose(bn.runningVar, try f["bn.rv1"], rtol: 1e-6, atol: 1e-6, "module running var")
        bn.eval()
        expectClose(bn(try f["bn.x2"]), try f["bn.out_eval"], rtol: 1e-5, atol: 1e-5, "module eval")
        #expect(bn.numBatchesTracked.itemInt() == 1)
    }

    @Test func groupNorm() throws {
        expectClose(F.groupNorm(try f["gn.x"], groups: 3, weight: try f["gn.w"], bias: try f["gn.b"]), try f["gn.out"],
                    rtol: 1e-5, atol: 1e-5, "group_norm")
    }

    @Test func activations() throws {
        let x = try f["act.x"]
        expectClose(F.gelu(x), try f["act.gelu"], rtol: 1e-6, atol: 1e-6, "exact gelu")
        expectClose(F.gelu(x, tanhApproximation: true), try f["act.gelu_tanh"], rtol: 1e-6, atol: 1e-6, "tanh gelu")
        expectClose(F.relu(x), try f["act.relu"], rtol: 0, atol: 0, "relu")
        expectClose(F.sigmoid(x), try f["act.sigmoid"], rtol: 1e-6, atol: 1e-7, "sigmoid")
        // gelu(x) = x Φ(x): gelu(1) = 0.8413447460685429, and the exact form differs from the tanh one.
        let one = Tensor([1] as [Double])
        expectClose(F.gelu(one), Tensor([0.8413447460685429] as [Double]), rtol: 1e-12, atol: 0, "gelu(1)")
        #expect(Swift.abs(F.gelu(one).item() - F.gelu(one, tanhApproximation: true).item()) > 1e-5)
        expectValues(F.relu(Tensor([-1, 0, 2] as [Float])), [0, 0, 2])
        expectValues(F.sigmoid(Tensor([0] as [Float])), [0.5])
        // hardswish(x) = x · min(max(x + 3, 0), 6) / 6.
        let h = Tensor([-4, -3, -1, 0, 1.5, 3, 4] as [Double])
        expectClose(F.hardswish(h), Tensor([0, 0, -1.0 / 3, 0, 1.125, 3, 4] as [Double]), rtol: 1e-12, atol: 1e-15, "hardswish")
        expectClose(Hardswish()(x), x * (x + 3).clamp(min: 0, max: 6) / 6, rtol: 1e-6, atol: 1e-7, "Hardswish module")
    }

    @Test func softmaxAndLogSoftmax() throws {
        let x = try f["softmax.x"]
        let s = F.softmax(x, dim: 1)
        expectClose(s, try f["softmax.dim1"], rtol: 1e-6, atol: 1e-7, "softmax")
        expectClose(s.sum(dim: 1), Tensor.ones([3, 5]), rtol: 0, atol: 1e-6, "rows sum to 1")
        expectClose(F.logSoftmax(x, dim: -1), try f["softmax.log_last"], rtol: 1e-6, atol: 1e-6, "log_softmax")
        expectClose(F.softmax(x.transpose(0, 2), dim: 0), try f["softmax.t_dim0"], rtol: 1e-6, atol: 1e-7, "of a view")
        // Shift invariance and a known value: softmax([0, ln 3]) = [1/4, 3/4].
        expectClose(F.softmax(Tensor([1000, 1000 + Foundation.log(3.0)] as [Double]), dim: 0), Tensor([0.25, 0.75] as [Double]),
                    rtol: 1e-12, atol: 0, "large logits")
    }

    @Test("dropout: training zeroes with probability p and rescales by 1/(1-p); eval is the identity")
    func dropout() {
        let x = Tensor.ones([200, 100])
        let y = F.dropout(x, p: 0.25, training: true)
        let values = Set(doubles(y))
        #expect(values.isSubset(of: [0, 1 / 0.75].map { Double(Float($0)) }))
        let zeroFraction = (y .== 0).to(.float32).mean().item()
        #expect(Swift.abs(zeroFraction - 0.25) < 0.02)  // 20000 draws: standard deviation 0.003
        #expect(F.dropout(x, p: 0.25, training: false) === x)
        #expect(doubles(F.dropout(x, p: 1, training: true)).allSatisfy { $0 == 0 })

        // dropout2d zeroes whole channels.
        let maps = Tensor.ones([8, 50, 4, 4])
        let d = F.dropout2d(maps, p: 0.5, training: true)
        let perChannel = d.sum([2, 3])  // 0 or 16 * 2
        #expect(Set(doubles(perChannel)).isSubset(of: [0, 32]))
        let dropped = (perChannel .== 0).to(.float32).mean().item()
        #expect(dropped > 0.35 && dropped < 0.65)
        #expect(F.dropout2d(maps, p: 0.5, training: false) === maps)
    }

    @Test("drop path: whole samples dropped and the rest rescaled; identity in eval")
    func dropPath() {
        let x = Tensor.ones([400, 3, 2, 2])
        let y = F.dropPath(x, p: 0.2, training: true)
        let perSample = y.sum([1, 2, 3])
        #expect(Set(doubles(perSample)).isSubset(of: [0, Double(Float(12 / 0.8))]))
        let kept = (perSample .> 0).to(.float32).mean().item()
        #expect(Swift.abs(kept - 0.8) < 0.08)
        #expect(F.dropPath(x, p: 0.2, training: false) === x)
        #expect(F.dropPath(x, p: 0, training: true) === x)
    }

    @Test func pooling() throws {
        let x = try f["pool.x"]
        expectClose(F.adaptiveAvgPool2d(x, (3, 2)), try f["pool.adaptive"], rtol: 1e-6, atol: 1e-6, "adaptive")
        expectClose(F.adaptiveAvgPool2d(x, (9, 11)), try f["pool.adaptive_big"], rtol: 1e-6, atol: 1e-6, "adaptive, output > input")
        expectClose(F.avgPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1)), try f["pool.avg"], rtol: 1e-6, atol: 1e-6, "avg")
        expectClose(F.avgPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false), try f["pool.avg_nopad"],
                    rtol: 1e-6, atol: 1e-6, "avg excluding padding")
        expectClose(F.avgPool2d(x, kernel: (2, 2), ceilMode: true), try f["pool.avg_ceil"], rtol: 1e-6, atol: 1e-6, "avg ceil mode")
        expectClose(F.maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1)), try f["pool.max"], rtol: 0, atol: 0, "max")
        expectClose(F.maxPool2d(x, kernel: (2, 2), stride: (1, 1), dilation: (2, 2)), try f["pool.max_dil"], rtol: 0, atol: 0, "max dilated")
        expectClose(F.maxPool2d(x, kernel: (2, 2), ceilMode: true), try f["pool.max_ceil"], rtol: 0, atol: 0, "max ceil mode")
        // Known values on 0..15 in a 4x4 map.
        let g = Tensor.arange(0, 16, dtype: .float32).reshape(1, 1, 4, 4)
        expectValues(F.adaptiveAvgPool2d(g, (1, 1)), [7.5])
        expectValues(F.adaptiveAvgPool2d(g, (2, 2)), [2.5, 4.5, 10.5, 12.5])
        expectValues(F.avgPool2d(g, kernel: (2, 2)), [2.5, 4.5, 10.5, 12.5])
        expectValues(F.maxPool2d(g, kernel: (2, 2)), [5, 7, 13, 15])
        // Adaptive pooling to a larger size repeats input cells (each output cell averages one or two inputs).
        expectValues(F.adaptiveAvgPool2d(Tensor([1, 3] as [Float], shape: [1, 1, 1, 2]), (1, 3)), [1, 2, 3])
    }

    @Test func interpolate() throws {
        let x = try f["interp.x"]
        expectClose(F.interpolate(x, size: (8, 7)), try f["interp.bilinear"], rtol: 1e-6, atol: 1e-6, "bilinear")
        expectClose(F.interpolate(x, size: (8, 7), mode: .bilinear(alignCorners: true)), try f["interp.bilinear_ac"],
                    rtol: 1e-6, atol: 1e-6, "bilinear align_corners")
        expectClose(F.interpolate(x, size: (3, 2)), try f["interp.bilinear_down"], rtol: 1e-6, atol: 1e-6, "bilinear down")
        expectClose(F.interpolate(x, size: (8, 7), mode: .nearest), try f["interp.nearest"], rtol: 0, atol: 0, "nearest")
        expectClose(F.interpolate(x, size: (3, 3), mode: .nearest), try f["interp.nearest_down"], rtol: 0, atol: 0, "nearest down")
        // 1x2 -> 1x3: align_corners keeps the end points (0, 0.5, 1); half-pixel centres give (0, 0.5, 1) clamped too,
        // but 1x2 -> 1x4 separates them: half-pixel (0, 0.25, 0.75, 1), corners (0, 1/3, 2/3, 1).
        let row = Tensor([0, 1] as [Float], shape: [1, 1, 1, 2])
        expectValues(F.interpolate(row, size: (1, 4)), [0, 0.25, 0.75, 1])
        expectClose(F.interpolate(row, size: (1, 4), mode: .bilinear(alignCorners: true)),
                    Tensor([0, 1.0 / 3, 2.0 / 3, 1] as [Float], shape: [1, 1, 1, 4]), rtol: 1e-6, atol: 1e-7, "corners")
        expectValues(F.interpolate(row, size: (1, 4), mode: .nearest), [0, 0, 1, 1])
    }

    @Test func scaledDotProductAttention() throws {
        let q = try f["sdpa.q"], k = try f["sdpa.k"], v = try f["sdpa.v"]
        expectClose(F.scaledDotProductAttention(q, k, v), try f["sdpa.out"], rtol: 1e-5, atol: 1e-6, "plain")
        expectClose(F.scaledDotProductAttention(q, k, v, mask: try f["sdpa.bool_mask"]), try f["sdpa.out_bool"],
                    rtol: 1e-5, atol: 1e-6, "boolean mask")
        expectClose(F.scaledDotProductAttention(q, k, v, mask: try f["sdpa.float_mask"]), try f["sdpa.out_float"],
                    rtol: 1e-5, atol: 1e-6, "additive mask")
        expectClose(F.scaledDotProductAttention(q, k, v, scale: 0.3), try f["sdpa.out_scale"], rtol: 1e-5, atol: 1e-6, "scale")
        // The definition: softmax(q kᵀ / sqrt(d)) v.
        let manual = F.softmax(q.matmul(k.transpose(-2, -1)) / 8.0.squareRoot(), dim: -1).matmul(v)
        expectClose(F.scaledDotProductAttention(q, k, v), manual, rtol: 1e-5, atol: 1e-6, "definition")
    }

    @Test("cross_entropy: ignore_index, reductions, class weights, label smoothing")
    func crossEntropy() throws {
        let logits = try f["ce.logits"], target = try f["ce.target"]
        expectClose(F.crossEntropy(logits, target, ignoreIndex: 255), try f["ce.mean"], rtol: 1e-6, atol: 1e-6, "mean")
        expectClose(F.crossEntropy(logits, target, ignoreIndex: 255, reduction: .sum), try f["ce.sum"], rtol: 1e-6, atol: 1e-6, "sum")
        let none = F.crossEntropy(logits, target, ignoreIndex: 255, reduction: .none)
        expectClose(none, try f["ce.none"], rtol: 1e-6, atol: 1e-6, "none")
        #expect(doubles(none.maskedFill(target .!= 255, 1)).allSatisfy { $0 == 1 || $0 == 0 })  // ignored pixels: 0
        expectClose(F.crossEntropy(logits, target, weight: try f["ce.weight"], ignoreIndex: 255), try f["ce.weighted"],
                    rtol: 1e-6, atol: 1e-6, "class weights")
        expectClose(F.crossEntropy(logits, target, ignoreIndex: 255, labelSmoothing: 0.1), try f["ce.smoothing"],
                    rtol: 1e-6, atol: 1e-6, "label smoothing")
        // By hand: two equal logits give ln 2 per pixel.
        let loss = F.crossEntropy(Tensor.zeros([1, 2, 1, 1], dtype: .float64), Tensor([1] as [Int64], shape: [1, 1, 1]))
        #expect(Swift.abs(loss.item() - Foundation.log(2.0)) < 1e-12)
    }
}
