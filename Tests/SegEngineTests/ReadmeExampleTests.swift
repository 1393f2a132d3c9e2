import Foundation
import Testing
import SegData
import SegEngine
import SegModels
import Torch
import TorchIO

/// The README's "Library use" example, as written there (with a tiny checkpoint and image in place of the real ones),
/// so that the README cannot drift from the API.
@Suite("README library example")
struct ReadmeExampleTests {
    @Test("the example compiles and segments an image at its own size")
    func libraryExample() throws {
        let dir = try EngineFixtures.temporaryFolder("readme")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = try EngineRuns.PredictorTests.writeTinyCheckpoint(in: dir)
        let image = dir.appendingPathComponent("street.png")
        try ImageIO.writePNG(EngineRuns.PredictorTests.image(width: 83, height: 61, seed: 4), to: image)

        // From README.md, with "lrformer-t" -> "lrformer-tiny" and the file names above.
        let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: checkpoint)
        InferencePreparation.prepare(loaded.model, device: .cpu, precision: .fp32)
        let settings = try EvaluationSettings.official(model: "lrformer-tiny", dataset: .ade20k)
        let labels = try Predictor(loaded: loaded, settings: settings)
            .segment(ImageIO.readImage(image))

        let model = try ModelRegistry.segmentation("segformer-b0", numClasses: 150)
        model.eval()
        let classes = Torch.inferenceMode { model.predict(Tensor.randn([1, 3, 128, 171])) }

        #expect(labels.width == 83 && labels.height == 61 && labels.labels.allSatisfy { $0 < 6 })
        #expect(classes.shape == [1, 128, 171])
    }
}
