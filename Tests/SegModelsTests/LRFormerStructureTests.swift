import Foundation
import Testing
import Torch
@testable import SegModels

@Suite("LRFormer structure equals the official state_dict")
struct LRFormerStructureTests {
    @Test("keys, order, shapes, dtypes and parameter counts equal the manifest", arguments: ["t", "s", "b", "l", "xl"])
    func manifest(variant: String) throws {
        let manifest = try Manifest(Fixtures.resource("lrformer/manifest-\(variant).json"))
        let model: Module
        let ours: [(String, Tensor)]
        if variant == "xl" {
            // The XL manifest is the bare backbone (upstream pairs it with Mask2Former).
            let encoder = LRFormerEncoder(.xl)
            model = encoder
            ours = encoder.stateDict()
        } else {
            let seg = try ModelRegistry.segmentation("lrformer-\(variant)", numClasses: manifest.numClasses ?? 150)
            model = seg
            ours = seg.stateDict()
        }
        let entries = ours.map { ManifestEntry(key: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.description) }
        #expect(entries.count == manifest.entries.count)
        for (a, b) in zip(entries, manifest.entries) where a != b {
            Issue.record("first difference: ours \(a) vs official \(b)")
            break
        }
        #expect(entries == manifest.entries)
        if let total = manifest.paramsTotal { #expect(model.parameterCount == total) }
        if variant == "xl", let backbone = manifest.paramsBackbone ?? manifest.paramsTotal {
            #expect(model.parameterCount == backbone)
        }
    }

    @Test("parameter totals quoted in the issue")
    func paramTotals() throws {
        let expected = ["lrformer-t": 13_264_894, "lrformer-s": 32_223_670, "lrformer-b": 67_505_406, "lrformer-l": 110_979_750]
        for (name, count) in expected {
            #expect(try ModelRegistry.build(name, numClasses: 150).parameterCount == count, "\(name)")
        }
    }

    @Test("pooled grids follow the aspect rule of the official code")
    func grids() {
        #expect(lowResolutionGrid(base: 16, height: 24, width: 32) == (16, 21))
        #expect(lowResolutionGrid(base: 11, height: 64, width: 80) == (11, 14))
        #expect(lowResolutionGrid(base: 16, height: 80, width: 64) == (20, 16))
        #expect(lowResolutionGrid(base: 4, height: 3, width: 4) == (4, 5))
        #expect(scaledPyramid(querySize: 32) == [22, 16, 12, 8])
        #expect(scaledPyramid(querySize: 7) == [5, 4, 3, 2])
    }

    @Test("classifier: query pooled to 7, Linear head on pooled F4")
    func classifier() throws {
        let model = try ModelRegistry.build("lrformer-t-cls", numClasses: 10) as! LRFormerClassifier
        #expect(model.backbone.config.querySize == 7)
        let out = Torch.inferenceMode { model.eval()(Tensor.randn([2, 3, 224, 224])) }
        #expect(out.shape == [2, 10])
        #expect(model.stateDict().last?.0 == "head.bias")
    }

    @Test("unknown model names and bad class counts throw")
    func errors() {
        #expect(throws: ModelError.self) { try ModelRegistry.build("lrformer-q") }
        #expect(throws: ModelError.self) { try ModelRegistry.build("lrformer-t", numClasses: 0) }
        #expect(throws: ModelError.self) { try ModelRegistry.segmentation("lrformer-t-cls") }
    }
}
