import Foundation
import Testing
import Torch
import SegModels
@testable import SegEngine

/// LRFormer-T+ at 512x512 against the paper's 53 G (the LRFormer README's LRFormer+ table), counted as
/// mmengine's FlopAnalyzer counts it; the deformable sampling as its `aten::grid_sampler` handle does.
@Suite("FLOP counter: LRFormer+", .serialized)
struct LRFormerPlusFlopTests {
    @Test("grid_sampler = 4 x output elements (mmengine's handle, 'assume bilinear')")
    func gridSampler() throws {
        let r = try FlopCounter.count(module: Identity(), name: "grid", input: [2, 3, 7, 9]) { x in
            F.gridSample(x, Tensor.rand([2, 5, 4, 2]) * 2 - 1)
        }
        #expect(r.outputShapes == [[2, 3, 5, 4]])
        #expect(r.total == 4 * 2 * 3 * 5 * 4)
        #expect(r.flops(of: "grid_sampler") == r.total)
    }

    @Test("LRFormer-T+ @512x512 (150 classes): total within 2% of the paper's 53 G, deformable sampling counted")
    func tPlus() throws {
        let r = try FlopCounter.count(modelNamed: "lrformer-t-plus", height: 512, width: 512, numClasses: 150)
        #expect(r.outputShapes == [[1, 150, 128, 128]])
        #expect(r.parameters == 31_016_895)
        // Pixel decoder: 6 layers x 3 levels, each sampling B·heads·d x Nq x points with Nq = 16² + 32² + 64² = 5376.
        let tokens = 16 * 16 + 32 * 32 + 64 * 64
        let gridSampler = 6 * 3 * 4 * (8 * 32 * tokens * 4)
        #expect(r.flops(of: "grid_sampler") == gridSampler)
        // Mask logits of the 10 predictions (100 x 256 x 128²) + the semantic inference (150 x 100 x 128²).
        let semanticInference = 150 * 100 * 128 * 128
        #expect(r.flops(of: "einsum") == 10 * 100 * 256 * 128 * 128 + semanticInference)
        // The backbone is LRFormer-T's: flops.md measures 9.16 G for it.
        #expect(abs(FlopCheck.percent(r.flops(inScope: "backbone"), 9.16)) < 0.5)

        // What the official get_flops.py traces (decode_head.forward, mmseg's `tensor` mode) stops before the semantic
        // inference, and torch's MultiheadAttention adds the cross-attention mask with baddbmm, which mmengine has
        // no handle for: its q·kᵀ (9 layers, keys 16², 32², 64² in turn) is not in the official figure.
        let maskedQK = 3 * 100 * tokens * 256
        let officialTrace = r.total - semanticInference - maskedQK
        let g = { (f: Int) in String(format: "%.2f", Double(f) / 1e9) }
        print("FLOPs lrformer-t-plus @512: \(g(r.total)) G (paper 53 G, \(String(format: "%+.2f", FlopCheck.percent(r.total, 53)))%); "
            + "backbone \(g(r.flops(inScope: "backbone"))) / head \(g(r.flops(inScope: "decode_head"))); grid_sampler \(g(gridSampler)); "
            + "as the official trace counts it (no semantic inference, masked q·kᵀ uncounted): \(g(officialTrace)) G; "
            + "without the sampling (the CUDA kernel path, which the trace cannot see): \(g(officialTrace - gridSampler)) G")
        #expect(abs(FlopCheck.percent(r.total, 53)) < 2)
        #expect(abs(FlopCheck.percent(officialTrace, 53)) < 2)
    }
}

/// The official LRFormer-T+ manifest, read from the reference folder beside the checkout when it is there.
enum LRFormerPlusReference {
    static let manifest: URL? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let env = ProcessInfo.processInfo.environment["SWIFTSEG_REFERENCE"].map { URL(fileURLWithPath: $0) }
        let folder = env ?? root.deletingLastPathComponent().appendingPathComponent("shared/reference")
        let url = folder.appendingPathComponent("lrformer-plus/manifest-t-plus.json")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()
}

@Suite("CLI: LRFormer+", .enabled(if: SwiftSegBinary.url != nil && LRFormerPlusReference.manifest != nil,
                                  "needs the swiftseg binary and ../shared/reference/lrformer-plus (or $SWIFTSEG_REFERENCE)"))
struct LRFormerPlusCLITests {
    @Test("`inspect --model lrformer-t-plus --json` equals the official manifest: 639 entries, 31,016,895 parameters")
    func inspect() throws {
        let r = try SwiftSegBinary.run(["inspect", "--model", "lrformer-t-plus", "--json"])
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: LRFormerPlusReference.manifest!)) as? [String: Any])
        #expect(ours["params_total"] as? Int == 31_016_895)
        #expect(ours["num_state_dict_entries"] as? Int == 639)
        func entries(_ object: [String: Any]) -> [String] {
            ((object["state_dict"] as? [[Any]]) ?? []).map { "\($0[0]) \($0[1]) \($0[2])" }
        }
        #expect(entries(ours) == entries(reference))
        #expect(entries(reference).count == 639)
    }
}
