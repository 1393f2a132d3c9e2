import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// A temporary folder removed when the value goes away.
private final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("segformer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }
}

/// A config.json as `save_pretrained` writes it (the keys SegFormer reads, plus some it ignores).
private func configJSON(hiddenSizes: [Int] = [32, 64, 160, 256], depths: [Int] = [2, 2, 2, 2], heads: [Int] = [1, 2, 5, 8],
                        decoder: Int = 256, labels: [String], extra: String = "") -> String {
    let id2label = labels.enumerated().map { "\"\($0.offset)\": \"\($0.element)\"" }.joined(separator: ", ")
    let label2id = labels.enumerated().map { "\"\($0.element)\": \($0.offset)" }.joined(separator: ", ")
    return """
    {
      "architectures": ["SegformerForSemanticSegmentation"],
      "model_type": "segformer",
      "num_channels": 3, "num_encoder_blocks": \(hiddenSizes.count),
      "hidden_sizes": \(hiddenSizes), "depths": \(depths), "num_attention_heads": \(heads),
      "sr_ratios": [8, 4, 2, 1], "patch_sizes": [7, 3, 3, 3], "strides": [4, 2, 2, 2], "mlp_ratios": [4, 4, 4, 4],
      "hidden_act": "gelu", "layer_norm_eps": 1e-06, "decoder_hidden_size": \(decoder),
      "drop_path_rate": 0.1, "classifier_dropout_prob": 0.1, "reshape_last_stage": true,
      "semantic_loss_ignore_index": 255, "torch_dtype": "float32", "transformers_version": "4.57.6",
      \(extra)
      "id2label": {\(id2label)}, "label2id": {\(label2id)}
    }
    """
}

/// Writes `model`'s state_dict as `model.safetensors` in `folder`.
private func writeWeights(_ model: Module, to folder: URL, dropping dropped: String? = nil) throws {
    var dict = HostTensorDict()
    for (k, t) in model.stateDict() where k != dropped { dict[k] = try t.host() }
    try SafeTensors.write(dict, to: folder.appendingPathComponent("model.safetensors"))
}

@Suite("SegFormer structure equals the Hugging Face state_dict")
struct SegFormerStructureTests {
    @Test("keys, order, shapes, dtypes and parameter counts equal the manifest", arguments: ["b0", "b1", "b2", "b3", "b4", "b5"])
    func manifest(variant: String) throws {
        let manifest = try Manifest(Fixtures.resource("segformer/manifest-\(variant).json"))
        let model = try ModelRegistry.segmentation("segformer-\(variant)", numClasses: 150) as! SegFormerSegmentation
        let entries = model.stateDict().map { ManifestEntry(key: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.description) }
        #expect(entries.count == manifest.entries.count)
        for (a, b) in zip(entries, manifest.entries) where a != b {
            Issue.record("first difference: ours \(a) vs Hugging Face \(b)")
            break
        }
        #expect(entries == manifest.entries)
        #expect(model.parameterCount == manifest.paramsTotal)
        #expect(model.encoder.parameterCount == manifest.paramsBackbone)
        #expect(model.decodeHead.parameterCount == manifest.paramsHead)
    }

    @Test("zoo entries, defaults and the SegFormer recipe's optimiser rules")
    func zoo() throws {
        #expect(Array(ModelRegistry.names.filter { $0.hasPrefix("segformer-") }) == (0...5).map { "segformer-b\($0)" })
        let model = try ModelRegistry.segmentation("segformer-b2") as! SegFormerSegmentation
        #expect(model.numClasses == 150)
        #expect(model.outputStride == 4)
        #expect(model.name == "segformer-b2")
        #expect(model.config.variantName == "b2")
        let rules = ModelFamily.segformer.recipe(.ade20k, "segformer-b2").value.paramRules
        #expect(rules["head"]?.lrMult == 10)
        #expect(rules["norm"]?.decayMult == 0)
        #expect(rules["pos_block"]?.decayMult == 0)
        // Every norm parameter of the encoder contains "norm"; every head parameter contains "head".
        let names = model.namedParameters().map { $0.0 }
        #expect(names.filter { $0.hasPrefix("decode_head.") }.allSatisfy { $0.contains("head") })
        // Patch embeddings, stage ends, two per block, and the key/value norms of stages 1-3.
        #expect(names.filter { $0.contains("layer_norm") }.count == 2 * (4 + 4 + 2 * 16 + (3 + 4 + 6)))
    }

    @Test("stochastic depth rises linearly from 0 to the rate over all blocks")
    func dropPathRates() {
        let rates = stochasticDepthRates(0.1, depths: [3, 4, 6, 3])
        #expect(rates.map { $0.count } == [3, 4, 6, 3])
        #expect(rates[0][0] == 0)
        #expect(abs(rates[3][2] - 0.1) < 1e-12)
        #expect(abs(rates[1][0] - 0.1 * 3 / 15) < 1e-12)
        #expect(stochasticDepthRates(0.3, depths: [1]) == [[0]])
    }
}

@Suite("SegFormer parity with Hugging Face transformers")
struct SegFormerParityTests {
    static var fixture: URL? { Fixtures.reference("segformer/parity-b0/weights.safetensors")?.deletingLastPathComponent() }

    static func check(_ model: SegFormerSegmentation, fixture ref: URL, label: String) throws {
        model.eval()
        let input = try Fixtures.tensors(ref.appendingPathComponent("input.safetensors"))["input"]!
        let expected = try Fixtures.tensors(ref.appendingPathComponent("expected.safetensors"))
        let out = Torch.inferenceMode { model.forwardAll(input) }
        for key in ["stage1", "stage2", "stage3", "stage4", "logits"] {
            let got = out[key]!, want = expected[key]!
            #expect(got.shape == want.shape, "\(key) shape")
            let err = Fixtures.relativeError(got, want)
            print("segformer-b0 parity (\(label)) \(key): relative error \(err), max abs \(Fixtures.maxAbsError(got, want))")
            #expect(err < 1e-4, "\(key): relative error \(err)")
        }
    }

    @Test("B0: every hidden state and the logits within 1e-4 relative (eval, float32; fixture read from ../shared)",
          .enabled(if: Self.fixture != nil, "needs ../shared/reference/segformer/parity-b0 (or SWIFTSEG_REFERENCE)"))
    func b0Forward() throws {
        let ref = try #require(Self.fixture)
        let model = try ModelRegistry.segmentation("segformer-b0", numClasses: 150) as! SegFormerSegmentation
        try model.load(stateDict: SafeTensors.read(ref.appendingPathComponent("weights.safetensors")), strict: true)
        try Self.check(model, fixture: ref, label: "state_dict")
    }

    @Test("B0 as a Hugging Face checkpoint folder: config.json + model.safetensors, no other input",
          .enabled(if: Self.fixture != nil, "needs ../shared/reference/segformer/parity-b0 (or SWIFTSEG_REFERENCE)"))
    func b0Folder() throws {
        let ref = try #require(Self.fixture)
        let folder = try TemporaryFolder()
        let labels = (0..<150).map { "class \($0)" }
        try folder.write("config.json", configJSON(labels: labels))
        try FileManager.default.createSymbolicLink(at: folder.url.appendingPathComponent("model.safetensors"),
                                                   withDestinationURL: ref.appendingPathComponent("weights.safetensors"))
        let (model, names) = try SegFormerSegmentation.load(checkpointFolder: folder.url)
        #expect(names == labels)
        #expect(model.name == "segformer-b0")
        #expect(model.numClasses == 150)
        try Self.check(model, fixture: ref, label: "checkpoint folder")
    }

    @Test("B0 as a Hugging Face folder holding only pytorch_model.bin (torch.save zip) gives the safetensors path's outputs",
          .enabled(if: Self.fixture != nil, "needs ../shared/reference/segformer/parity-b0 (or SWIFTSEG_REFERENCE)"))
    func b0PickledFolder() throws {
        let ref = try #require(Self.fixture)
        let folder = try TemporaryFolder()
        try folder.write("config.json", configJSON(labels: (0..<150).map { "class \($0)" }))
        let weights = try SafeTensors.read(ref.appendingPathComponent("weights.safetensors"))
        try PyTorchCheckpointWriter.write(weights, to: folder.url.appendingPathComponent("pytorch_model.bin"))
        let (model, _) = try SegFormerSegmentation.load(checkpointFolder: folder.url)
        for (key, tensor) in model.stateDict() {
            let stored = try #require(weights[key])
            #expect(try tensor.host().floatValues() == stored.floatValues(), "\(key) differs from model.safetensors")
        }
        try Self.check(model, fixture: ref, label: "pytorch_model.bin")
    }
}

@Suite("Shared reference data")
struct SharedReferenceTests {
    @Test("SWIFTSEG_REFERENCE, when set, names an existing folder (a typo must not turn parity tests into skips)")
    func referenceVariable() {
        if let env = ProcessInfo.processInfo.environment["SWIFTSEG_REFERENCE"] {
            #expect(FileManager.default.fileExists(atPath: env), "SWIFTSEG_REFERENCE=\(env) does not exist")
        }
    }
}

@Suite("SegFormer Hugging Face config.json and checkpoint folders")
struct SegFormerCheckpointTests {
    @Test("config.json: sizes, depths, heads, decoder width and id2label in id order")
    func parse() throws {
        let folder = try TemporaryFolder()
        try folder.write("config.json", configJSON(hiddenSizes: [64, 128, 320, 512], depths: [3, 4, 6, 3], decoder: 768,
                                                   labels: ["wall", "building", "sky"]))
        let hf = try HuggingFaceSegFormerConfig(contentsOf: folder.url.appendingPathComponent("config.json"))
        #expect(hf.config == .b2)
        #expect(hf.config.variantName == "b2")
        #expect(hf.classNames == ["wall", "building", "sky"])
        #expect(hf.numClasses == 3)
        #expect(hf.architectures == ["SegformerForSemanticSegmentation"])
    }

    @Test("missing keys take SegformerConfig's defaults; id2label keys may come in any order")
    func defaults() throws {
        let json = #"{"id2label": {"1": "person", "0": "background"}, "drop_path_rate": 0.0}"#
        let hf = try HuggingFaceSegFormerConfig(json: Data(json.utf8), source: "inline")
        var expected = SegFormerConfig.b0
        expected.dropPathRate = 0
        #expect(hf.config == expected)
        #expect(hf.classNames == ["background", "person"])
        let onlyCount = try HuggingFaceSegFormerConfig(json: Data(#"{"num_labels": 2}"#.utf8), source: "inline")
        #expect(onlyCount.classNames == ["LABEL_0", "LABEL_1"])
    }

    @Test("invalid config.json files throw errors that name the file and the key",
          arguments: [
              (#"{"hidden_sizes": [32, 64], "id2label": {"0": "a"}}"#, "depths has 4 entries but hidden_sizes has 2"),
              (#"{"hidden_sizes": [32, "x", 160, 256], "id2label": {"0": "a"}}"#, "hidden_sizes[1]: expected Int"),
              (#"{"num_attention_heads": [3, 2, 5, 8], "id2label": {"0": "a"}}"#, "not a multiple of 3 heads"),
              (#"{"id2label": {"0": "a", "2": "c"}}"#, "without gaps"),
              (#"{"id2label": {"zero": "a"}}"#, "id2label key 'zero'"),
              (#"{"id2label": {"0": "a"}, "num_labels": 5}"#, "num_labels is 5 but id2label names 1"),
              (#"{"hidden_sizes": [32, 64, 160, 256]}"#, "neither id2label nor num_labels"),
              (#"{"model_type": "upernet", "num_labels": 3}"#, "model_type is 'upernet'"),
              (#"{"hidden_act": "relu", "num_labels": 3}"#, "hidden_act 'relu'"),
              (#"{"num_encoder_blocks": 3, "num_labels": 3}"#, "num_encoder_blocks is 3"),
              (#"{"num_labels": 0}"#, "must be in 1...100000"),
              (#"{"hidden_sizes": [32, 64, 160, 256], "#, "not valid JSON"),
              (#"[1, 2, 3]"#, "expected"),
          ])
    func invalidConfig(json: String, message: String) throws {
        let folder = try TemporaryFolder()
        try folder.write("config.json", json)
        let file = folder.url.appendingPathComponent("config.json")
        let error = #expect(throws: ModelError.self) { try HuggingFaceSegFormerConfig(contentsOf: file) }
        #expect(error?.message.contains(file.path) == true, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("a saved folder loads back with identical weights and outputs")
    func roundTrip() throws {
        Torch.manualSeed(1)
        let config = SegFormerConfig(hiddenSizes: [16, 32, 80, 128], depths: [1, 1, 2, 1], decoderHiddenSize: 32)
        let original = SegFormerSegmentation(name: "tiny", config: config, numClasses: 4).eval()
        let folder = try TemporaryFolder()
        try folder.write("config.json", configJSON(hiddenSizes: [16, 32, 80, 128], depths: [1, 1, 2, 1], decoder: 32,
                                                   labels: ["a", "b", "c", "d"]))
        try writeWeights(original, to: folder.url)
        let (loaded, names) = try SegFormerSegmentation.load(checkpointFolder: folder.url)
        #expect(names == ["a", "b", "c", "d"])
        #expect(loaded.name == "segformer")
        #expect(loaded.config == config)
        loaded.eval()
        let x = Tensor.randn([1, 3, 64, 96])
        let (a, b) = Torch.inferenceMode { (original.logits(x), loaded.logits(x)) }
        #expect(Fixtures.maxAbsError(a, b) == 0)
    }

    @Test("folder errors: no folder, no config.json, no model.safetensors, encoder-only config, weights not matching")
    func folderErrors() throws {
        func message(_ folder: URL) -> String {
            do {
                _ = try SegFormerSegmentation.load(checkpointFolder: folder)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let folder = try TemporaryFolder()
        let missing = folder.url.appendingPathComponent("nope")
        #expect(message(missing).contains("\(missing.path): not a folder"))
        #expect(message(folder.url).contains("config.json: file not found"))

        let config = SegFormerConfig(hiddenSizes: [16, 32, 80, 128], depths: [1, 1, 1, 1], decoderHiddenSize: 32)
        try folder.write("config.json", configJSON(hiddenSizes: config.hiddenSizes, depths: config.depths, decoder: 32, labels: ["a", "b"]))
        #expect(message(folder.url).contains("neither model.safetensors nor pytorch_model.bin found"))
        try folder.write("pytorch_model.bin", "not a torch.save file")
        #expect(message(folder.url).contains("pytorch_model.bin"))
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("pytorch_model.bin"))

        try folder.write("model.safetensors", "garbage")
        #expect(message(folder.url).contains("safetensors: \(folder.url.path)/model.safetensors: file is 7 bytes, too short"))

        let model = SegFormerSegmentation(name: "x", config: config, numClasses: 2)
        try writeWeights(model, to: folder.url, dropping: "decode_head.classifier.bias")
        let mismatch = message(folder.url)
        #expect(mismatch.contains("model.safetensors does not match config.json"))
        #expect(mismatch.contains("decode_head.classifier.bias"))

        // Three classes in config.json, two in the weights: a shape mismatch, reported by key.
        try writeWeights(model, to: folder.url)
        try folder.write("config.json", configJSON(hiddenSizes: config.hiddenSizes, depths: config.depths, decoder: 32, labels: ["a", "b", "c"]))
        #expect(message(folder.url).contains("decode_head.classifier.weight expects [3, 32, 1, 1], checkpoint has [2, 32, 1, 1]"))

        try folder.write("config.json", #"{"architectures": ["SegformerForImageClassification"], "num_labels": 1000}"#)
        #expect(message(folder.url).contains("not SegformerForSemanticSegmentation"))
    }
}

@Suite("SegFormer on arbitrary input sizes")
struct SegFormerSizeTests {
    static let model: SegFormerSegmentation = {
        Torch.manualSeed(0)
        return SegFormerSegmentation(name: "segformer-b0", config: .b0, numClasses: 19).eval()
    }()

    @Test("logits at ceil(H/4) x ceil(W/4), predictions at H x W", arguments: [(100, 150), (221, 349), (29, 29), (512, 512)])
    func size(h: Int, w: Int) throws {
        let x = Tensor.randn([1, 3, h, w])
        let (logits, full) = Torch.inferenceMode { (Self.model.logits(x), Self.model.predictLogits(x)) }
        #expect(logits.shape == [1, 19, (h + 3) / 4, (w + 3) / 4])
        #expect(full.shape == [1, 19, h, w])
        #expect(full.allFinite())
        let stages = Torch.inferenceMode { Self.model.forwardAll(x) }
        var side = (h, w)
        for (s, stride) in [4, 2, 2, 2].enumerated() {
            side = ((side.0 + stride - 1) / stride, (side.1 + stride - 1) / stride)
            #expect(stages["stage\(s + 1)"]!.shape == [1, SegFormerConfig.b0.hiddenSizes[s], side.0, side.1])
        }
    }

    @Test("training mode: stochastic depth and dropout active, every parameter gets a gradient")
    func training() throws {
        Torch.manualSeed(2)
        let config = SegFormerConfig(hiddenSizes: [16, 32, 80, 128], depths: [1, 1, 2, 1], decoderHiddenSize: 32, dropPathRate: 0.3)
        let model = SegFormerSegmentation(name: "tiny", config: config, numClasses: 5).train()
        let x = Tensor.randn([2, 3, 61, 77])
        let target = Tensor.randint(0, 5, [2, 16, 20])
        let loss = F.crossEntropy(model.logits(x), target)
        loss.backward()
        #expect(loss.item().isFinite)
        let missing = model.namedParameters().filter { $0.1.grad == nil }.map { $0.0 }
        #expect(missing.isEmpty, "no gradient: \(missing)")
        #expect(model.decodeHead.batchNorm.numBatchesTracked.itemInt() == 1)
        // Two training forwards differ (drop path, dropout); two eval forwards do not.
        let (a, b) = Torch.noGrad { (model.logits(x), model.logits(x)) }
        #expect(Fixtures.maxAbsError(a, b) > 0)
        model.eval()
        let (c, d) = Torch.inferenceMode { (model.logits(x), model.logits(x)) }
        #expect(Fixtures.maxAbsError(c, d) == 0)
    }

    @Test("the smallest input the spatial-reduction convs accept")
    func minimumSize() {
        #expect(Self.model.minimumInputSize == 29)
        #expect(SegFormerConfig.b0.gridSizes(input: 29) == [8, 4, 2, 1])
        #expect(SegFormerConfig.b0.gridSizes(input: 28) == [7, 4, 2, 1])
    }
}
