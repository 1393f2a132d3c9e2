import Foundation
import SegData
import SegModels
import Torch

/// Builds a model and loads a checkpoint for evaluation or prediction, with the class names that belong
/// to it. Names come from the checkpoint (SwiftSeg state, mmengine meta, Hugging Face id2label); never
/// silently from another dataset.
public enum ModelLoader {
    public struct Loaded {
        public let model: any SegmentationModel
        public let classNames: [String]
        public let palette: [[UInt8]]
        /// Where the names came from, for the user.
        public let classSource: String
    }

    public static func load(model name: String, checkpoint: URL, numClasses: Int? = nil, fallbackClasses: DatasetClasses? = nil,
                            device: Device = .cpu) throws -> Loaded {
        // A Hugging Face SegFormer folder (config.json + model.safetensors) describes itself: variant, classes.
        if name.lowercased().hasPrefix("segformer"),
           FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("config.json").path) {
            let (model, names) = try SegFormerSegmentation.load(checkpointFolder: checkpoint)
            model.eval().to(device: device)
            let palette = fallbackClasses.flatMap { $0.count == names.count ? $0.palette : nil }
                ?? DatasetClasses.defaultPalette(count: names.count)
            return Loaded(model: model, classNames: names, palette: palette, classSource: "config.json id2label")
        }
        let contents = try WeightsFile.read(checkpoint)
        // Class count: explicit, else the checkpoint's classifier shape.
        let probe = try ModelRegistry.segmentation(name, numClasses: numClasses ?? 1)
        var k = numClasses
        if k == nil {
            guard let w = contents.tensors[probe.classifierKey] else {
                throw TorchError("checkpoint", "\(checkpoint.path) has no \(probe.classifierKey): is it a \(name) checkpoint?")
            }
            k = w.shape[0] - probe.classifierExtraRows
        }
        let model = try ModelRegistry.segmentation(name, numClasses: k!)
        try model.load(stateDict: contents.tensors, strict: true)
        model.eval().to(device: device)

        var names: [String]? = nil
        var source = ""
        if let state = try? TrainingCheckpoint(folder: checkpointFolder(checkpoint)).readState(), !state.classes.isEmpty {
            names = state.classes
            source = "training checkpoint"
        } else if let c = contents.classes {
            names = c
            source = "checkpoint metadata"
        }
        var palette = contents.palette?.map { $0.map { UInt8(clamping: $0) } }
        if names == nil, let f = fallbackClasses, f.count == k! {
            names = f.names
            palette = f.palette
            source = "dataset"
        }
        if names == nil {
            names = (0..<k!).map { "class \($0)" }
            source = "none in the checkpoint: numbered classes"
        }
        guard names!.count == k! else {
            throw TorchError("checkpoint", "\(checkpoint.path): \(names!.count) class names for a \(k!)-class model")
        }
        if palette == nil || palette!.count < k! {
            palette = fallbackClasses.flatMap { $0.count == k! ? $0.palette : nil } ?? DatasetClasses.defaultPalette(count: k!)
        }
        return Loaded(model: model, classNames: names!, palette: palette!, classSource: source)
    }

    /// A SwiftSeg checkpoint is a folder; a file inside it also identifies it.
    static func checkpointFolder(_ url: URL) -> URL {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        return exists && isDir.boolValue ? url : url.deletingLastPathComponent()
    }
}
