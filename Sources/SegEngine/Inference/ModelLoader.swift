import Foundation
import SegData
import SegModels
import Torch
import TorchIO

/// Builds a model and loads a checkpoint for evaluation or prediction, with the class names that belong to it.
/// Names come from the checkpoint (SwiftSeg state, mmengine meta, Hugging Face id2label); never silently from
/// another dataset.
public enum ModelLoader {
    public struct Loaded {
        public let model: any SegmentationModel
        public let classNames: [String]
        public let palette: [[UInt8]]
        /// Where the names came from, for the user.
        public let classSource: String
        /// Things worth telling the user (a converted layout, unused checkpoint entries).
        public let notes: [String]
    }

    /// `name` is a model ("lrformer-t") or, for a self-describing folder (a Hugging Face checkpoint), its family
    /// ("segformer").
    public static func load(model name: String, checkpoint: URL, numClasses: Int? = nil, fallbackClasses: DatasetClasses? = nil,
                            device: Device = .cpu) throws -> Loaded {
        let family = try ModelRegistry.family(of: name)
        if let loadFolder = family.loadFolder, isFolder(checkpoint),
           FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("config.json").path) {
            let (model, names) = try loadFolder(checkpoint)
            model.eval().to(device: device)
            let palette = fallbackClasses.flatMap { $0.count == names.count ? $0.palette : nil }
                ?? DatasetClasses.defaultPalette(count: names.count)
            return Loaded(model: model, classNames: names, palette: palette, classSource: "config.json id2label", notes: [])
        }
        guard (try? ModelRegistry.variant(name)) != nil else {
            throw EngineError("'\(name)' names the \(family.title) family; name one of its models ("
                + family.variants.filter { $0.kind == .segmentation }.map(\.name).joined(separator: ", ")
                + ") or give a self-describing checkpoint folder")
        }
        let trainingState = try? TrainingCheckpoint(folder: checkpointFolder(checkpoint)).readState()
        // A training checkpoint (the folder or its model.safetensors) names the model it trained: another --model would
        // only fail on keys and shapes.
        if isFolder(checkpoint) || checkpoint.lastPathComponent == TrainingCheckpoint.modelFile,
           let trained = trainingState?.config.model, trained != name {
            throw EngineError("\(checkpoint.path) is a training checkpoint of \(trained) (its state.json), not of \(name): pass --model \(trained)")
        }
        let contents = try WeightsFile.read(checkpoint)
        // Class count: explicit, else the checkpoint's classifier shape.
        let probe = try ModelRegistry.segmentation(name, numClasses: numClasses ?? 1)
        var k = numClasses
        if k == nil {
            guard let w = contents.tensors[probe.classifierKey] else {
                let hint = ModelRegistry.layoutHint(for: contents.tensors, model: probe, modelName: name)
                throw EngineError("\(checkpoint.path) has no \(probe.classifierKey): is it a \(name) checkpoint?"
                    + (hint.map { "\nhint: \($0)" } ?? ""))
            }
            k = w.shape[0] - probe.classifierExtraRows
        }
        let model = try ModelRegistry.segmentation(name, numClasses: k!)
        let load = try ModelRegistry.load(contents.tensors, into: model, modelName: name, strict: true, source: checkpoint.path)
        model.eval().to(device: device)
        var notes: [String] = []
        if let map = load.keyMap { notes.append("converted from the \(map) layout") }
        if !load.unused.isEmpty { notes.append("\(load.unused.count) checkpoint entries are unused by the forward pass, as upstream: "
                                               + load.unused.prefix(3).joined(separator: ", ") + (load.unused.count > 3 ? ", ..." : "")) }

        var names: [String]? = nil
        var source = ""
        if let state = trainingState, !state.classes.isEmpty {
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
            throw EngineError("\(checkpoint.path): \(names!.count) class names for a \(k!)-class model")
        }
        if palette == nil || palette!.count < k! {
            palette = fallbackClasses.flatMap { $0.count == k! ? $0.palette : nil } ?? DatasetClasses.defaultPalette(count: k!)
        }
        return Loaded(model: model, classNames: names!, palette: palette!, classSource: source, notes: notes)
    }

    /// The data set a SwiftSeg training checkpoint was trained on (nil for other checkpoints).
    public static func trainingDataset(of checkpoint: URL) -> DatasetKind? {
        (try? TrainingCheckpoint(folder: checkpointFolder(checkpoint)).readState())?.config.dataset.kind
    }

    static func isFolder(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// A SwiftSeg checkpoint is a folder; a file inside it also identifies it.
    static func checkpointFolder(_ url: URL) -> URL {
        isFolder(url) ? url : url.deletingLastPathComponent()
    }
}
