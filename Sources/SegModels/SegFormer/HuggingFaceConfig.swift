import Foundation
import Torch
import TorchIO

// Hugging Face SegFormer checkpoint folders (what `save_pretrained` writes and the Hub serves, e.g.
// nvidia/segformer-b0-finetuned-ade-512-512): `config.json` describes the architecture and the classes,
// `model.safetensors` holds the `transformers` state_dict, whose names SegFormerSegmentation uses as they are.

/// What SwiftSeg takes from a Hugging Face SegFormer `config.json`. Missing keys get `SegformerConfig`'s
/// defaults, as `from_pretrained` gives them.
public struct HuggingFaceSegFormerConfig: Sendable, Equatable {
    public var config: SegFormerConfig
    /// `id2label` in id order (`LABEL_i` when the file gives only `num_labels`).
    public var classNames: [String]
    /// `architectures`, when the file lists them (e.g. ["SegformerForSemanticSegmentation"]).
    public var architectures: [String]?

    public var numClasses: Int { classNames.count }

    public init(config: SegFormerConfig, classNames: [String], architectures: [String]? = nil) {
        self.config = config
        self.classNames = classNames
        self.architectures = architectures
    }

    /// Reads a `config.json` file.
    public init(contentsOf url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw Self.error(url.path, "file not found") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw Self.error(url.path, "cannot read file (\(error.localizedDescription))")
        }
        try self.init(json: data, source: url.path)
    }

    /// Parses `config.json` text; `source` names it in errors.
    public init(json: Data, source: String) throws {
        func fail(_ message: String) -> ModelError { Self.error(source, message) }
        let raw: RawConfig
        do {
            raw = try JSONDecoder().decode(RawConfig.self, from: json)
        } catch let e as DecodingError {
            throw fail(Self.describe(e))
        } catch {
            throw fail("not valid JSON (\(error.localizedDescription))")
        }

        if let type = raw.modelType, type != "segformer" { throw fail("model_type is '\(type)', not 'segformer'") }
        if let act = raw.hiddenAct, act != "gelu" {
            throw fail("hidden_act '\(act)' is not supported (SegFormer uses 'gelu', the exact erf form)")
        }

        let d = SegFormerConfig.b0  // SegformerConfig's defaults are MiT-b0 with a 256-wide head
        let config = SegFormerConfig(
            hiddenSizes: raw.hiddenSizes ?? d.hiddenSizes, depths: raw.depths ?? d.depths,
            numAttentionHeads: raw.numAttentionHeads ?? d.numAttentionHeads, srRatios: raw.srRatios ?? d.srRatios,
            patchSizes: raw.patchSizes ?? d.patchSizes, strides: raw.strides ?? d.strides, mlpRatios: raw.mlpRatios ?? d.mlpRatios,
            decoderHiddenSize: raw.decoderHiddenSize ?? d.decoderHiddenSize, dropPathRate: raw.dropPathRate ?? d.dropPathRate,
            classifierDropout: raw.classifierDropoutProb ?? d.classifierDropout, numChannels: raw.numChannels ?? d.numChannels)
        if let blocks = raw.numEncoderBlocks, blocks != config.stageCount {
            throw fail("num_encoder_blocks is \(blocks) but hidden_sizes has \(config.stageCount) entries")
        }
        do { try config.validate() } catch let e as ModelError { throw fail(e.message) }

        var names: [String]
        if let id2label = raw.id2label {
            var byId: [Int: String] = [:]
            for (key, label) in id2label {
                guard let id = Int(key), id >= 0 else { throw fail("id2label key '\(key)' is not a class index") }
                byId[id] = label
            }
            guard !byId.isEmpty, byId.keys.sorted() == Array(0..<byId.count) else {
                throw fail("id2label must number the classes 0..<\(byId.count) without gaps, got ids \(byId.keys.sorted().prefix(20))")
            }
            names = (0..<byId.count).map { byId[$0]! }
            if let n = raw.numLabels, n != names.count {
                throw fail("num_labels is \(n) but id2label names \(names.count) classes")
            }
        } else if let n = raw.numLabels {
            names = (0..<max(n, 0)).map { "LABEL_\($0)" }
        } else {
            throw fail("neither id2label nor num_labels: the number of classes is unknown")
        }
        guard (1...100_000).contains(names.count) else {
            throw fail("the number of classes must be in 1...100000, got \(names.count)")
        }
        self.init(config: config, classNames: names, architectures: raw.architectures)
    }

    static func error(_ source: String, _ message: String) -> ModelError {
        ModelError("segformer config \(source): \(message)")
    }

    /// "hidden_sizes[2]: expected Int" rather than DecodingError's debug dump.
    static func describe(_ error: DecodingError) -> String {
        func at(_ c: DecodingError.Context) -> String {
            var path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            if path.hasPrefix(".") { path.removeFirst() }
            return path.isEmpty ? "" : "\(path): "
        }
        switch error {
        case .typeMismatch(let type, let c): return "\(at(c))expected \(type)"
        case .valueNotFound(let type, let c): return "\(at(c))expected \(type), found null"
        case .keyNotFound(let key, let c): return "\(at(c))missing \(key.stringValue)"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "\(at(c))\(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// The keys read, with the types `transformers` writes.
    struct RawConfig: Decodable {
        var modelType: String?
        var architectures: [String]?
        var numChannels: Int?
        var numEncoderBlocks: Int?
        var depths: [Int]?
        var srRatios: [Int]?
        var hiddenSizes: [Int]?
        var patchSizes: [Int]?
        var strides: [Int]?
        var numAttentionHeads: [Int]?
        var mlpRatios: [Int]?
        var hiddenAct: String?
        var decoderHiddenSize: Int?
        var dropPathRate: Double?
        var classifierDropoutProb: Double?
        var numLabels: Int?
        var id2label: [String: String]?

        enum CodingKeys: String, CodingKey {
            case modelType = "model_type", architectures, numChannels = "num_channels", numEncoderBlocks = "num_encoder_blocks"
            case depths, srRatios = "sr_ratios", hiddenSizes = "hidden_sizes", patchSizes = "patch_sizes", strides
            case numAttentionHeads = "num_attention_heads", mlpRatios = "mlp_ratios", hiddenAct = "hidden_act"
            case decoderHiddenSize = "decoder_hidden_size", dropPathRate = "drop_path_rate"
            case classifierDropoutProb = "classifier_dropout_prob", numLabels = "num_labels", id2label
        }
    }
}

extension SegFormerSegmentation {
    /// Builds the model a Hugging Face checkpoint folder describes (`config.json`) and loads its weights strictly
    /// (`model.safetensors`, else `pytorch_model.bin`, read by the pickle reader that executes nothing): every key
    /// present, none extra, every shape equal, every value finite.
    public static func load(checkpointFolder folder: URL) throws -> (model: SegFormerSegmentation, classNames: [String]) {
        func fail(_ message: String) -> ModelError { ModelError("segformer checkpoint \(folder.path): \(message)") }
        let files = FileManager.default
        var isFolder: ObjCBool = false
        guard files.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw fail("not a folder (expected a Hugging Face checkpoint folder with config.json and model.safetensors)")
        }
        let hf = try HuggingFaceSegFormerConfig(contentsOf: folder.appendingPathComponent("config.json"))
        if let architectures = hf.architectures, !architectures.contains("SegformerForSemanticSegmentation") {
            throw fail("config.json describes \(architectures.joined(separator: ", ")), not SegformerForSemanticSegmentation "
                + "(an encoder-only checkpoint such as nvidia/mit-b0 has no decode head)")
        }

        let safetensors = folder.appendingPathComponent("model.safetensors")
        let pickled = folder.appendingPathComponent("pytorch_model.bin")
        let weights: HostTensorDict
        let weightsName: String
        if files.fileExists(atPath: safetensors.path) {
            weightsName = "model.safetensors"
            do { weights = try SafeTensors.read(safetensors) } catch { throw fail("\(error)") }
        } else if files.fileExists(atPath: pickled.path) {
            weightsName = "pytorch_model.bin"
            do { weights = try PyTorchCheckpoint.read(pickled).stateDict } catch { throw fail("\(error)") }
        } else {
            let sharded = ["model.safetensors.index.json", "pytorch_model.bin.index.json"].filter { files.fileExists(atPath: folder.appendingPathComponent($0).path) }
            throw fail("neither model.safetensors nor pytorch_model.bin found" + (sharded.isEmpty ? "" : " (the folder has \(sharded.joined(separator: ", ")): "
                + "sharded checkpoints are not read; save the model as one file)"))
        }

        let name = hf.config.variantName.map { "segformer-\($0)" } ?? "segformer"
        let model = SegFormerSegmentation(name: name, config: hf.config, numClasses: hf.numClasses)
        do {
            try ModelRegistry.load(weights, into: model, modelName: name, strict: true, source: folder.appendingPathComponent(weightsName).path)
        } catch let e as ModelError {
            throw fail("\(weightsName) does not match config.json: \(e.message)")
        }
        return (model, hf.classNames)
    }
}
