import Foundation
import SegModels
import Testing
import Torch
import TorchIO
@testable import SegEngine

@Suite("Loading a Hugging Face SegFormer folder for prediction")
struct HuggingFaceLoadingTests {
    @Test("`segformer` + a folder with config.json and model.safetensors: variant and class names from the folder")
    func folder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // HF's SegformerConfig defaults are MiT-B0 with a 256-channel head; only the labels are given.
        let config = #"{"model_type": "segformer", "num_labels": 3, "id2label": {"0": "road", "1": "car", "2": "sky"}}"#
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        let source = try ModelRegistry.segmentation("segformer-b0", numClasses: 3)
        var weights = HostTensorDict()
        for (k, t) in source.stateDict() { weights[k] = try t.host() }
        try SafeTensors.write(weights, to: dir.appendingPathComponent("model.safetensors"))

        let loaded = try ModelLoader.load(model: "segformer", checkpoint: dir)
        #expect(loaded.classNames == ["road", "car", "sky"])
        #expect(loaded.model.numClasses == 3)
        #expect(loaded.model.parameterCount == source.parameterCount)
        let x = Tensor.randn([1, 3, 64, 96])
        let (a, b) = Torch.inferenceMode { (source.eval().predictLogits(x), loaded.model.predictLogits(x)) }
        #expect((a - b).abs().max().item() == 0)
    }
}
