import Foundation
import SegData
import Torch

/// Turns a training config into datasets and pipelines.
public enum DataSetup {
    public static func layout(_ kind: DatasetKind) -> DatasetLayout {
        switch kind {
        case .ade20k: return .ade20k
        case .cityscapes: return .cityscapes
        case .cocoStuff: return .cocoStuff164k
        case .folder: return .folder
        case .synth: return .synth
        }
    }

    public static func dataset(_ config: TrainConfig, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        let root = URL(fileURLWithPath: (config.dataset.root as NSString).expandingTildeInPath)
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw EngineError("dataset root not found: \(root.path)")
        }
        var ds = try SegDataset.open(layout(config.dataset.kind), root: root, split: split, mapInvalidToIgnore: mapInvalidToIgnore)
        if let reduce = config.dataset.reduceZeroLabel { ds = ds.withReduceZeroLabel(reduce) }
        if let k = config.dataset.numClasses, k != ds.numClasses {
            throw EngineError("config says \(k) classes but the \(config.dataset.kind.rawValue) dataset at \(root.path) has \(ds.numClasses)")
        }
        return ds
    }

    /// Reads every sample of `dataset` once (in parallel): files present and decodable, image and label sizes equal,
    /// label values in range. Throws the first problem, naming the file.
    public static func check(_ dataset: SegDataset, workers: Int, progress: ((Int, Int) -> Void)? = nil) throws {
        let group = max(1, workers) * 4
        var start = 0
        while start < dataset.count {
            let end = min(start + group, dataset.count)
            for result in parallelResults(count: end - start, workers: max(1, workers), { i in try dataset.load(start + i) }) {
                _ = try result.get()
            }
            start = end
            progress?(start, dataset.count)
        }
    }

    public static func trainPipeline(_ config: TrainConfig) -> TrainPipeline {
        let a = config.augmentation
        let crop = (config.cropSize.height, config.cropSize.width)
        let ratio = (a.ratioRange.first ?? 0.5)...(a.ratioRange.last ?? 2.0)
        return TrainPipeline(
            resize: RandomResize(scale: (a.scale.longSide, a.scale.shortSide), ratioRange: ratio, keepRatio: true),
            crop: RandomCrop(size: crop, catMaxRatio: a.catMaxRatio, ignoreIndex: LabelMap.ignoreIndex),
            flip: RandomFlip(prob: a.flipProb),
            photometric: a.photometric ? PhotoMetricDistortion() : nil,
            normalize: Normalize(mean: a.mean.map { Float($0) }, std: a.std.map { Float($0) }))
    }

}

extension Tensor {
    /// A normalised CHW image as a 1,3,H,W float tensor.
    public convenience init(image: NormalizedImage) {
        self.init(image.values, shape: [1, image.channels, image.height, image.width])
    }
}
