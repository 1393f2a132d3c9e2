import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

@Suite("LRFormer on arbitrary input sizes")
struct LRFormerSizeTests {
    static let model: LRFormerSegmentation = {
        Torch.manualSeed(0)
        return LRFormerSegmentation(name: "lrformer-t", config: .t, numClasses: 19).eval()
    }()

    @Test("output shapes and a fixed attention token count", arguments: [(96, 128), (200, 352), (221, 349), (512, 512), (1024, 2048)])
    func size(h: Int, w: Int) throws {
        let recorder = OpRecorder()
        let out = try recorder.record {
            try Torch.inferenceMode { Self.model.predictLogits(try Tensor.Checked.randn([1, 3, h, w], dtype: .float32, device: .cpu)) }
        }
        #expect(out.shape == [1, 19, h, w])
        #expect(out.allFinite())
        // Every encoder block attends from the 16-cell query grid to the 4-level pyramid of its stage's map:
        // the counts depend only on the aspect ratio, never on H x W.
        let attention = recorder.events.filter { $0.op == "scaled_dot_product_attention" && $0.scopes.contains("backbone") }
        #expect(attention.count == LRFormerConfig.t.depths.reduce(0, +))
        var (sh, sw) = (h, w)
        var expected: [[Int]] = []
        for s in 0..<4 {
            for _ in 0..<(s == 0 ? 2 : 1) { (sh, sw) = ((sh + 1) / 2, (sw + 1) / 2) }  // conv stride 2: ceil
            let (qh, qw) = lowResolutionGrid(base: 16, height: sh, width: sw)
            let keys = [11, 8, 6, 4].map { lowResolutionGrid(base: $0, height: sh, width: sw) }.reduce(0) { $0 + $1.0 * $1.1 }
            expected += Array(repeating: [qh * qw, keys], count: LRFormerConfig.t.depths[s])
        }
        #expect(attention.map { [$0.inputs[0][2], $0.inputs[1][2]] } == expected)
        #expect(attention.allSatisfy { $0.inputs[0][2] <= 16 * 32 && $0.inputs[1][2] <= 474 })
    }

    @Test("attention token counts are identical for 512x512 and 1024x1024")
    func constantAttention() throws {
        func tokens(_ s: Int) -> [[Int]] {
            let recorder = OpRecorder()
            recorder.record { _ = Torch.inferenceMode { Self.model.logits(Tensor.randn([1, 3, s, s])) } }
            return recorder.events.filter { $0.op == "scaled_dot_product_attention" }.map { [$0.inputs[0][2], $0.inputs[1][2]] }
        }
        let a = tokens(512), b = tokens(1024)
        #expect(a == b)
        #expect(a.first == [256, 237])
    }
}
