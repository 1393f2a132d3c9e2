import Foundation
import Testing
import SegData
import SegModels
import Torch
@testable import SegEngine

@Suite("Confusion matrix on the device")
struct DeviceConfusionMatrixTests {
    /// Labels with every kind of pixel: classes, the ignore value, unknown labels; predictions in and out of range.
    @Test("equals the host loop's counts, side counts included", arguments: [(5, false), (7, true), (150, false)])
    func equalsHostLoop(classes: Int, invalidPredictions: Bool) throws {
        Torch.manualSeed(UInt64(classes))
        var host = ConfusionMatrix(numClasses: classes)
        var device = DeviceConfusionMatrix(numClasses: classes, device: .cpu)
        for (h, w) in [(17, 23), (64, 48), (1, 300)] {
            let labelTensor = Tensor.randint(0, classes + 12, [h * w])
            var labels = labelTensor.toArray(Int64.self).map { UInt8($0) }
            for i in stride(from: 0, to: labels.count, by: 7) { labels[i] = 255 }
            let high = invalidPredictions ? classes + 3 : classes
            let prediction = Tensor.randint(0, high, [1, h, w])
            host.accumulate(prediction: prediction.toArray(Int64.self), label: labels, ignoreIndex: 255)
            try device.accumulate(prediction: prediction, labels: labels, ignoreIndex: 255)
        }
        let onDevice = try device.matrix()
        #expect(onDevice == host)
        #expect(host.ignoredPixels > 0 && host.unknownLabelPixels > 0)
        #expect((host.invalidPredictionPixels > 0) == invalidPredictions)
    }

    @Test("a prediction of another size than its labels is an error")
    func sizeMismatch() throws {
        var device = DeviceConfusionMatrix(numClasses: 3, device: .cpu)
        #expect(throws: EngineError.self) { try device.accumulate(prediction: Tensor.zeros([1, 4, 4], dtype: .int64), labels: [0, 1]) }
    }

    @Test("the evaluator gives the same metrics accumulating on the device as on the host")
    func evaluatorPaths() throws {
        let dir = try EngineFixtures.temporaryFolder("eval-device-matrix")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try SegDataset.open(.synth, root: EngineFixtures.synthData(in: dir, train: 0, val: 3), split: .val)
        Torch.manualSeed(3)
        let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: dataset.numClasses)
        var evaluator = Evaluator(settings: EngineFixtures.settings(), workers: 1)
        #expect(!evaluator.accumulateOnDevice)  // the CPU default
        let host = try evaluator.evaluate(model, dataset: dataset)
        evaluator.accumulateOnDevice = true
        let device = try evaluator.evaluate(model, dataset: dataset)
        #expect(host.areaIntersect == device.areaIntersect && host.areaUnion == device.areaUnion)
        #expect(host.areaPrediction == device.areaPrediction && host.areaLabel == device.areaLabel)
        #expect(host.mIoU == device.mIoU || (host.mIoU.isNaN && device.mIoU.isNaN))
    }
}
