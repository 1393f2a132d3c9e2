import Foundation
import SegData
import SegModels
import Torch

/// Evaluates a model over a dataset split as mmsegmentation does: the test protocol's resize and normalisation,
/// whole or slide inference, optional multi-scale + flip TTA, logits resized to the ORIGINAL label size, metrics
/// accumulated over the whole dataset.
public struct Evaluator {
    public var settings: EvaluationSettings
    public var device: Device = .cpu
    public var workers: Int = 2
    /// Called after each image with (done, total).
    public var progress: ((Int, Int) -> Void)? = nil
    /// In a multi-process run each rank evaluates its shard of the images and the confusion matrices are summed over
    /// ranks (mmseg's distributed evaluation), so every rank gets the metrics of the whole split.
    public var group: ProcessGroup? = nil
    /// Count pixels on the device (`DeviceConfusionMatrix`): each class map stays there and only the counts come back.
    /// On by default on CUDA; on the CPU the host loop is faster.
    public var accumulateOnDevice: Bool

    public init(settings: EvaluationSettings, device: Device = .cpu, workers: Int = 2, group: ProcessGroup? = nil) {
        self.settings = settings
        self.device = device
        self.workers = workers
        self.group = group
        accumulateOnDevice = device.isCUDA
    }

    public func evaluate(_ model: any SegmentationModel, dataset: SegDataset, limit: Int? = nil) throws -> SegMetrics {
        try settings.validate()
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var matrix = ConfusionMatrix(numClasses: dataset.numClasses)
        var onDevice = accumulateOnDevice ? DeviceConfusionMatrix(numClasses: dataset.numClasses, device: device) : nil
        let pipeline = settings.pipeline
        let images = limit.map { dataset.prefix($0) } ?? dataset
        let shard = try group.map { try SampleShard(rank: $0.rank, count: $0.size) } ?? .whole
        let loader = EvalLoader(dataset: images, pipeline: pipeline, workers: workers, shard: shard)
        let total = loader.count
        var done = 0
        while done < total, let sample = try loader.next() {
            try Torch.inferenceMode {
                let prediction = try predict(model, sample: sample, pipeline: pipeline)
                if onDevice != nil {
                    try onDevice!.accumulate(prediction: prediction, labels: sample.label.labels, ignoreIndex: 255)
                } else {
                    matrix.accumulate(prediction: prediction.to(dtype: .int32, device: .cpu).toArray(Int32.self),
                                      label: sample.label.labels, ignoreIndex: 255)
                }
            }
            done += 1
            progress?(done, total)
        }
        if let onDevice { matrix = try onDevice.matrix() }
        if let group { matrix = try matrix.summed(over: group) }
        return SegMetrics(matrix, classNames: dataset.classes.names)
    }

    /// Class indices at the original label size (1,H,W int64, on the device).
    func predict(_ model: any SegmentationModel, sample: EvalSample, pipeline: TestPipeline) throws -> Tensor {
        let size = sample.originalSize
        let probabilities: Tensor
        if let tta = settings.augmentation {
            probabilities = try augmentedProbabilities(model, image: sample.originalImage, tta: tta, normalize: pipeline.normalize,
                                                       size: Size2D(size.h, size.w))
        } else {
            let x = try Tensor(image: sample.image).checked.to(device: device)
            probabilities = try SegmentationInference.probabilities(model, x, mode: settings.inferenceMode, outputSize: Size2D(size.h, size.w),
                                                                    constraints: settings.constraints, precision: settings.precision)
        }
        return probabilities.argmax(dim: 1)
    }

    /// Averages softmax scores over every TTA view (flipped views are flipped back).
    func augmentedProbabilities(_ model: any SegmentationModel, image: Image, tta: TestTimeAugmentation, normalize: Normalize,
                                size: Size2D) throws -> Tensor {
        let views = tta.views(width: image.width, height: image.height)
        var sum: Tensor? = nil
        for view in views {
            let x = Tensor(image: normalize.apply(tta.render(image, view: view))).to(device)
            var p = try SegmentationInference.probabilities(model, x, mode: settings.inferenceMode, outputSize: size,
                                                            constraints: settings.constraints, precision: settings.precision)
            if view.flipped { p = p.flip([3]) }
            sum = sum.map { $0 + p } ?? p
        }
        return sum! / Double(views.count)
    }
}
