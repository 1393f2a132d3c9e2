import Foundation
import SegModels
import Torch
import TorchIO

/// A resumable training checkpoint: a folder `iter_<N>` holding `model.safetensors`,
/// `optimizer.safetensors` and `state.json` (iteration, config, optimiser meta, best score).
/// Written into a temporary folder and renamed, so a checkpoint is either complete or absent.
public struct TrainingCheckpoint {
    public struct State: Codable {
        public var iteration: Int
        public var seed: Int
        public var bestMIoU: Double?
        public var bestIteration: Int?
        public var optimizerMeta: [String: Double]
        /// State of the training hooks (e.g. the fp16 gradient scaler); absent in older checkpoints.
        public var hooksState: [String: Double]?
        public var config: TrainConfig
        public var classes: [String]
    }

    public let folder: URL

    public init(folder: URL) { self.folder = folder }

    /// The weights' file name inside a checkpoint folder.
    public static let modelFile = "model.safetensors"

    public var modelURL: URL { folder.appendingPathComponent(Self.modelFile) }
    /// The model this checkpoint trained (its state.json), nil where that cannot be read.
    var trainedModel: String? { try? readState().config.model }
    var optimizerURL: URL { folder.appendingPathComponent("optimizer.safetensors") }
    var stateURL: URL { folder.appendingPathComponent("state.json") }

    /// Writes model, optimiser and state atomically as `<dir>/<name>`; replaces an existing one.
    @discardableResult
    public static func save(to dir: URL, name: String, model: Module, optimizer: Optimizer, state: State) throws -> TrainingCheckpoint {
        do {
            return try write(to: dir, name: name, model: model, optimizer: optimizer, state: state)
        } catch let error as TorchIOError {
            throw error  // names the file already
        } catch {
            throw EngineError.file("save the checkpoint", dir.appendingPathComponent(name).path, error)
        }
    }

    private static func write(to dir: URL, name: String, model: Module, optimizer: Optimizer, state: State) throws -> TrainingCheckpoint {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let partial = dir.appendingPathComponent(".\(name).partial")
        try? fm.removeItem(at: partial)
        try fm.createDirectory(at: partial, withIntermediateDirectories: true)
        let ckpt = TrainingCheckpoint(folder: partial)

        var weights = HostTensorDict()
        for (k, t) in model.stateDict() { weights[k] = try t.checked.to(device: .cpu).host() }
        try SafeTensors.write(weights, metadata: ["format": "swiftseg", "model": state.config.model], to: ckpt.modelURL)

        let (tensors, meta) = optimizer.stateDict()
        var opt = HostTensorDict()
        for k in tensors.keys.sorted() { opt[k] = try tensors[k]!.checked.to(device: .cpu).host() }
        try SafeTensors.write(opt, to: ckpt.optimizerURL)

        var s = state
        s.optimizerMeta = meta
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(s).write(to: ckpt.stateURL)

        let final = dir.appendingPathComponent(name)
        let old = dir.appendingPathComponent(".\(name).old")
        try? fm.removeItem(at: old)
        if fm.fileExists(atPath: final.path) { try fm.moveItem(at: final, to: old) }
        try fm.moveItem(at: partial, to: final)
        try? fm.removeItem(at: old)
        return TrainingCheckpoint(folder: final)
    }

    public func readState() throws -> State {
        do {
            return try JSONDecoder().decode(State.self, from: Data(contentsOf: stateURL))
        } catch {
            throw EngineError("\(stateURL.path): unreadable training state (\(error))")
        }
    }

    public func restore(model: Module, optimizer: Optimizer) throws -> State {
        let state = try readState()
        try ModelRegistry.load(SafeTensors.read(modelURL), into: model, modelName: state.config.model, strict: true, source: modelURL.path)
        var tensors: [String: Tensor] = [:]
        for (k, v) in try SafeTensors.read(optimizerURL).items { tensors[k] = try Tensor(host: v) }
        try optimizer.load(tensors: tensors, meta: state.optimizerMeta)
        return state
    }

    /// The newest complete `iter_<N>` checkpoint in a folder.
    public static func latest(in dir: URL) -> TrainingCheckpoint? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
        let best = names.compactMap { n -> (Int, String)? in
            guard n.hasPrefix("iter_"), let i = Int(n.dropFirst(5)),
                  FileManager.default.fileExists(atPath: dir.appendingPathComponent(n).appendingPathComponent("state.json").path)
            else { return nil }
            return (i, n)
        }.max { $0.0 < $1.0 }
        return best.map { TrainingCheckpoint(folder: dir.appendingPathComponent($0.1)) }
    }
}
