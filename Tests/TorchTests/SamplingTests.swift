import Foundation
import Testing
@testable import Torch

/// `grid_sample`, `binary_cross_entropy_with_logits` and `MultiheadAttention` against values worked out by hand.
@Suite("Sampling, binary cross-entropy and multi-head attention")
struct SamplingTests {
    /// A 1x1x2x3 map with values 0...5.
    static let map = Tensor([0, 1, 2, 3, 4, 5] as [Float], shape: [1, 1, 2, 3])

    /// align_corners false: pixel (i, j) has its centre at x = (2j + 1) / W - 1, y = (2i + 1) / H - 1.
    static func centre(_ i: Double, _ j: Double, h: Double = 2, w: Double = 3) -> [Float] {
        [Float((2 * j + 1) / w - 1), Float((2 * i + 1) / h - 1)]
    }

    @Test("bilinear grid_sample: pixel centres give the pixels, midpoints the means, outside is zero-padded")
    func gridSample() throws {
        let points: [[Float]] = [
            Self.centre(0, 0), Self.centre(1, 2),  // pixels 0 and 5
            Self.centre(0.5, 0.5),                 // mean of 0, 1, 3, 4 = 2
            Self.centre(0, -0.5),                  // halfway into the zero padding left of pixel 0 (value 0) -> 0
            Self.centre(1, 2.5),                   // halfway right of pixel 5 -> 2.5
            Self.centre(2, 1),                     // a whole cell below pixel 4 -> 0
        ]
        let grid = Tensor(points.flatMap { $0 }, shape: [1, 1, points.count, 2])
        let out = F.gridSample(Self.map, grid)
        #expect(out.shape == [1, 1, 1, points.count])
        let v = out.toArray(Float.self).map(Double.init)
        for (got, want) in zip(v, [0, 5, 2, 0, 2.5, 0]) { #expect(abs(got - want) < 1e-6, "\(v)") }
        // Several channels and a batch: each image is sampled with its own grid.
        let two = Tensor.cat([Self.map, Self.map * 10], dim: 0)
        let grids = Tensor((Self.centre(1, 1) + Self.centre(0, 2)), shape: [2, 1, 1, 2])
        #expect(F.gridSample(two, grids).toArray(Float.self) == [4, 20])
        // Errors from libtorch are thrown by the checked form.
        #expect(throws: TorchError.self) { try F.Checked.gridSample(Self.map, Tensor.zeros([1, 2, 2])) }
    }

    @Test("binary_cross_entropy_with_logits = log(1 + e^x) - x·t, with reductions")
    func binaryCrossEntropy() throws {
        let x: [Float] = [-3, -0.5, 0, 2, 40], t: [Float] = [0, 1, 0.5, 1, 0]
        let expected = zip(x, t).map { x, t in Foundation.log(1 + Foundation.exp(Double(x))) - Double(x * t) }
        let none = F.binaryCrossEntropyWithLogits(Tensor(x), Tensor(t), reduction: .none).toArray(Float.self)
        for (a, b) in zip(none, expected) { #expect(abs(Double(a) - b) < 1e-5 * max(1, b)) }
        let sum = F.binaryCrossEntropyWithLogits(Tensor(x), Tensor(t), reduction: .sum).item()
        #expect(abs(sum - expected.reduce(0, +)) < 1e-4)
        let mean = F.binaryCrossEntropyWithLogits(Tensor(x), Tensor(t)).item()
        #expect(abs(mean - expected.reduce(0, +) / 5) < 1e-5)
    }

    @Test("MultiheadAttention: packed projections, heads, blocked keys; PyTorch's keys and init")
    func multiheadAttention() throws {
        Torch.manualSeed(3)
        let mha = MultiheadAttention(embedDim: 8, numHeads: 2)
        #expect(mha.stateDict().map(\.0) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        #expect(mha.inProjBias!.abs().max().item() == 0 && mha.outProj.bias!.abs().max().item() == 0)
        let q = Tensor.randn([2, 3, 8]), kv = Tensor.randn([2, 5, 8])
        // Block key 4 for every query of every head, and keys 0-1 for query 0 of head 1 in image 1.
        var blocked = [Bool](repeating: false, count: 2 * 2 * 3 * 5)
        for bh in 0..<4 { for i in 0..<3 { blocked[(bh * 3 + i) * 5 + 4] = true } }
        blocked[(3 * 3 + 0) * 5 + 0] = true
        blocked[(3 * 3 + 0) * 5 + 1] = true
        let mask = Tensor(blocked, shape: [4, 3, 5])
        let out = mha(query: q, key: kv, value: kv, blockedMask: mask)

        // By hand: project, split heads, scores / √d with -inf where blocked, softmax, weighted sum, merge, out_proj.
        let w = mha.inProjWeight.chunk(3, dim: 0), b = mha.inProjBias!.chunk(3, dim: 0)
        func heads(_ t: Tensor) -> Tensor { t.view([2, t.size(1), 2, 4]).permute(0, 2, 1, 3) }
        let qh = heads(q.matmul(w[0].transpose(0, 1)) + b[0]), kh = heads(kv.matmul(w[1].transpose(0, 1)) + b[1])
        let vh = heads(kv.matmul(w[2].transpose(0, 1)) + b[2])
        let scores = (qh.matmul(kh.transpose(2, 3)) / 2).maskedFill(mask.view([2, 2, 3, 5]), -Double.infinity)
        let attended = F.softmax(scores, dim: -1).matmul(vh).permute(0, 2, 1, 3).reshape([2, 3, 8])
        let expected = mha.outProj(attended)
        #expect(out.shape == [2, 3, 8])
        #expect((out - expected).abs().max().item() < 1e-5)
        // Without a mask every key counts: the result differs.
        #expect((mha(query: q, key: kv, value: kv) - out).abs().max().item() > 1e-3)
    }
}
