import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// The two reduced SegViT parity fixtures, read from shared/reference/segvit when present (9 MB and 4 MB); a reduced
/// copy of the Shrunk one (3.6 MB, without the duplicate `seg_logits`) is checked in under Resources/segvit.
enum SegViTFixture {
    static let atm = "fixture_vit_d4_atm_128"
    static let shrunk = "fixture_vit_d4_shrink_tpnatm_128"

    static func folder(_ name: String) -> URL? {
        let candidates = [Fixtures.sharedReference?.appendingPathComponent("segvit/\(name)"), Fixtures.resource("segvit/\(name)")]
        return candidates.compactMap { $0 }.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("weights_fp16.safetensors").path)
        }
    }

    struct Loaded {
        let model: SegViTSegmentation
        let input: Tensor
        let labels: Tensor
        let expected: [String: Tensor]
        let lossReference: [String: Double]
    }

    /// The fixture's model (official weights, eval mode), input, labels B,H,W and expected tensors.
    static func load(_ name: String, model variant: String) throws -> Loaded {
        let url = try #require(folder(name))
        let model = try #require(try ModelRegistry.segmentation(variant, numClasses: 10) as? SegViTSegmentation)
        try model.load(stateDict: SafeTensors.read(url.appendingPathComponent("weights_fp16.safetensors")), strict: true)
        model.eval()
        let inputs = try Fixtures.tensors(url.appendingPathComponent("input.safetensors"))
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("meta.json"))) as! [String: Any]
        let losses = (meta["loss_reference"] as! [String: NSNumber]).mapValues(\.doubleValue)
        return Loaded(model: model, input: inputs["input"]!, labels: inputs["label"]!.squeeze(1),
                      expected: try Fixtures.tensors(url.appendingPathComponent("expected.safetensors")), lossReference: losses)
    }

    /// Our batch-first tensor in the fixture's layout: decoder queries are stored sequence-first (Q,B,E).
    static func aligned(_ got: Tensor, to want: Tensor) -> Tensor {
        let (g, w) = (got.shape, want.shape)
        if g != w && g.count == 3 && g == [w[1], w[0], w[2]] { return got.transpose(0, 1) }
        return got
    }
}

@Suite("SegViT structure equals the official state_dict")
struct SegViTStructureTests {
    @Test("keys, order, shapes, dtypes and parameter counts equal the manifest",
          arguments: [("segvit-vit-b", "vit-b16"), ("segvit-vit-l", "vit-l16-640"), ("segvit-vit-l-shrunk", "vit-l16-640-shrink")])
    func manifest(model name: String, manifest file: String) throws {
        let manifest = try Manifest(Fixtures.resource("segvit/manifest-\(file).json"))
        let model = try #require(try ModelRegistry.segmentation(name, numClasses: 150) as? SegViTSegmentation)
        let entries = model.stateDict().map { ManifestEntry(key: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.description) }
        #expect(entries.count == manifest.entries.count)
        for (a, b) in zip(entries, manifest.entries) where a != b {
            Issue.record("first difference: ours \(a) vs official \(b)")
            break
        }
        #expect(entries == manifest.entries)
        #expect(model.parameterCount == manifest.paramsTotal)
        #expect(model.backbone.parameterCount == manifest.paramsBackbone)
        #expect(model.parameterCount - model.backbone.parameterCount == manifest.paramsHead)
    }

    @Test("the reduced fixture configurations are registered as testing variants")
    func testingVariants() throws {
        for name in ["segvit-tiny", "segvit-tiny-shrunk"] {
            #expect(try ModelRegistry.variant(name).kind == .testing)
            let model = try ModelRegistry.segmentation(name)
            #expect(model.numClasses == 10)
            let out = Torch.inferenceMode { model.eval().logits(Tensor.randn([2, 3, 128, 128])) }
            #expect(out.shape == [2, 10, 128, 128])
        }
    }

    @Test("the class count is read from the class queries (class_embed has K + 1 rows)")
    func classifierKey() throws {
        for name in ["segvit-tiny", "segvit-tiny-shrunk"] {
            let model = try ModelRegistry.segmentation(name, numClasses: 7)
            let keys = Dictionary(uniqueKeysWithValues: model.stateDict())
            #expect(keys[model.classifierKey]?.shape.first == 7)
        }
    }

    @Test("the masks are tied to img_size: other square inputs give img_size scores, prediction is at the input size")
    func outputSize() throws {
        let model = try ModelRegistry.segmentation("segvit-tiny").eval()
        let x = Tensor.randn([1, 3, 192, 192])
        let scores = Torch.inferenceMode { model.logits(x) }  // position embedding resized 8x8 -> 12x12
        #expect(scores.shape == [1, 10, 128, 128])
        #expect(Torch.inferenceMode { model.predict(x) }.shape == [1, 192, 192])
    }

    @Test("QD keeps the tokens at even rows and columns")
    func evenTokens() {
        // 4x4 grid, token value = its index.
        let t = Tensor((0..<16).map { Float($0) }, shape: [1, 16, 1])
        let down = SegViTBackbone.evenTokens(t)
        #expect(down.shape == [1, 4, 1])
        #expect(down.flatten().toArray(Float.self) == [0, 2, 8, 10])
    }
}

@Suite("SegViT parity with the official implementation")
struct SegViTParityTests {
    /// Absolute tolerances: the fixtures' masks and scores are small and near-flat (|mask| < 0.12, scores 0.40-0.51).
    static let outputTolerance = 1e-5

    static func compare(_ ours: [String: Tensor], _ expected: [String: Tensor], keys: [String], tolerance: (String) -> Double) {
        for key in keys {
            guard let want = expected[key] else { Issue.record("fixture has no \(key)"); continue }
            guard let raw = ours[key] else { Issue.record("forwardAll has no \(key)"); continue }
            let got = SegViTFixture.aligned(raw, to: want)
            #expect(got.shape == want.shape, "\(key): shape \(got.shape) vs \(want.shape)")
            guard got.shape == want.shape else { continue }
            let err = Fixtures.maxAbsError(got, want)
            let scale = want.to(.float64).abs().max().item()
            print("SegViT parity \(key): max |diff| \(String(format: "%.3g", err)) (max |value| \(String(format: "%.3g", scale)))")
            #expect(err <= tolerance(key), "\(key): max abs error \(err)")
        }
    }

    /// Features are compared relative to their scale (1e-5 of max |x|); decoder outputs, masks, logits and scores absolutely.
    static func tolerance(_ expected: [String: Tensor]) -> (String) -> Double {
        { key in
            if key.hasPrefix("backbone") || key.hasSuffix("proj_norm_1") || key.hasSuffix("proj_norm_2") || key.hasSuffix("proj_norm_3") {
                return 1e-5 * max(1, expected[key]!.to(.float64).abs().max().item())
            }
            return outputTolerance
        }
    }

    @Test("ATM: backbone, per-layer queries and masks, per-stage class logits, cumulative masks, final scores",
          .enabled(if: SegViTFixture.folder(SegViTFixture.atm) != nil, "shared/reference/segvit/fixture_vit_d4_atm_128 not found"))
    func atmForward() throws {
        let f = try SegViTFixture.load(SegViTFixture.atm, model: "segvit-tiny")
        let ours = Torch.inferenceMode { f.model.forwardAll(f.input) }
        var keys = ["backbone.patch_embed", "backbone.0", "backbone.1", "backbone.2"] + (0..<4).map { "backbone.layers.\($0)" }
        for s in 1...3 {
            keys += ["decode_head.proj_norm_\(s)", "decode_head.decoder_\(s).0", "decode_head.decoder_\(s).1"]
            for j in 0..<3 { keys += ["decode_head.decoder_\(s).layers.\(j).0", "decode_head.decoder_\(s).layers.\(j).1"] }
        }
        keys += ["decode_head.class_embed", "pred_logits", "pred_masks", "pred", "seg_logits",
                 "aux_outputs.0.pred_logits", "aux_outputs.0.pred_masks", "aux_outputs.1.pred_logits", "aux_outputs.1.pred_masks"]
        Self.compare(ours, f.expected, keys: keys, tolerance: Self.tolerance(f.expected))
        // logits() is the head's eval output.
        let scores = Torch.inferenceMode { f.model.logits(f.input) }
        #expect(Fixtures.maxAbsError(scores, f.expected["pred"]!) <= Self.outputTolerance)
    }

    @Test("Shrunk: QD backbone, QU decoders, per-layer ATM queries, masks and class logits, final scores")
    func shrunkForward() throws {
        let f = try SegViTFixture.load(SegViTFixture.shrunk, model: "segvit-tiny-shrunk")
        let ours = Torch.inferenceMode { f.model.forwardAll(f.input) }
        var keys = ["backbone.patch_embed", "backbone.0", "backbone.1"] + (0..<4).map { "backbone.layers.\($0)" }
        for s in 1...2 {
            keys += ["decode_head.proj_norm_\(s)", "decode_head.decoder_\(s)"] + (0..<3).map { "decode_head.decoder_\(s).layers.\($0)" }
        }
        keys += (0..<6).map { "decode_head.atm.decoder_1.\($0)" }
        keys += f.expected["seg_logits"] == nil ? [] : ["seg_logits"]  // not in the checked-in copy
        keys += ["decode_head.atm.class_embed", "pred_logits", "pred_masks", "pred",
                 "aux_outputs.0.pred_logits", "aux_outputs.0.pred_masks", "aux_outputs.1.pred_logits", "aux_outputs.1.pred_masks"]
        Self.compare(ours, f.expected, keys: keys, tolerance: Self.tolerance(f.expected))
    }

    @Test("ATM: every loss term within 1e-5 relative (the family's loss on the model's training outputs)",
          .enabled(if: SegViTFixture.folder(SegViTFixture.atm) != nil, "shared/reference/segvit/fixture_vit_d4_atm_128 not found"))
    func atmLoss() throws { try Self.checkLoss(fixture: SegViTFixture.atm, model: "segvit-tiny") }

    @Test("Shrunk: every loss term within 1e-5 relative")
    func shrunkLoss() throws { try Self.checkLoss(fixture: SegViTFixture.shrunk, model: "segvit-tiny-shrunk") }

    static func checkLoss(fixture: String, model: String) throws {
        let f = try SegViTFixture.load(fixture, model: model)
        let family = try ModelRegistry.family(of: model)
        #expect(family.loss.name == "atm")
        let outputs = Torch.noGrad { f.model.trainingOutputs(f.input) }
        let value = family.loss(outputs, labels: f.labels)
        let terms = Dictionary(uniqueKeysWithValues: value.terms.map { ($0.name, $0.value.item()) })
        #expect(terms.count == 9)
        for (name, want) in f.lossReference where name != "acc_seg" {
            let got = try #require(terms[name], "no term \(name)")
            let rel = abs(got - want) / abs(want)
            print("SegViT loss \(fixture) \(name): \(got) vs \(want) (rel \(String(format: "%.2g", rel)))")
            #expect(rel < 1e-5, "\(name): \(got) vs \(want)")
        }
        #expect(abs(value.total.item() - terms.values.reduce(0, +)) < 1e-4)
    }
}

@Suite("SegViT training through the family's loss", .serialized)
struct SegViTTrainingTests {
    /// Labels B,H,W: 32x32 blocks of classes 0..3, a square of class 4, the bottom rows ignored.
    static func labels(batch: Int, side: Int = 128) -> Tensor {
        var values = [Int64](repeating: 0, count: batch * side * side)
        for b in 0..<batch {
            for y in 0..<side {
                for x in 0..<side {
                    var v = Int64((y / 32 + x / 32 + b) % 4)
                    if (40..<72).contains(y) && (40..<72).contains(x) { v = 4 }
                    if y >= 112 { v = 255 }
                    values[(b * side + y) * side + x] = v
                }
            }
        }
        return Tensor(values, shape: [batch, side, side])
    }

    @Test("one step's gradients are finite and AdamW steps on a fixed batch lower the loss", arguments: ["segvit-tiny", "segvit-tiny-shrunk"])
    func steps(model name: String) throws {
        Torch.manualSeed(0)
        let family = try ModelRegistry.family(of: name)
        let model = try ModelRegistry.segmentation(name, numClasses: 5).train()
        let x = Tensor.randn([2, 3, 128, 128])
        let y = Self.labels(batch: 2)
        let optimizer = AdamW(model.parameters, lr: 1e-3, weightDecay: 0.01)

        var losses: [Double] = []
        for step in 0..<10 {
            model.zeroGrad()
            let loss = family.loss(model.trainingOutputs(x), labels: y)
            #expect(loss.terms.count == 9)
            loss.total.backward()
            if step == 0 {
                var withGradient = 0
                for (key, p) in model.namedParameters() {
                    guard let g = p.grad else { continue }
                    #expect(g.allFinite(), "\(key): non-finite gradient")
                    withGradient += 1
                }
                // Every parameter takes part (cls_token and pos_embed[:, 0] get zero gradients, as upstream).
                #expect(withGradient == model.namedParameters().count)
            }
            optimizer.step()
            losses.append(loss.total.item())
        }
        print("SegViT \(name) training losses: \(losses.map { String(format: "%.3f", $0) })")
        let finite = losses.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(losses.last! < 0.8 * losses.first!, "loss \(losses.first!) -> \(losses.last!)")
    }

    @Test("BCE with logits: finite for large |x|, gradient σ(x) - t everywhere (x = 0 included)")
    func binaryCrossEntropy() {
        let x = Tensor([Float(-100), -1, 0, 0, 1, 100])
        x.requiresGrad = true
        let t = Tensor([Float(1), 0, 1, 0, 1, 0])
        let loss = binaryCrossEntropyWithLogits(x, t)
        let softplus1 = Float(log(1 + exp(-1.0)))
        let expected: [Float] = [100, softplus1, Float(log(2.0)), Float(log(2.0)), softplus1, 100]
        for (a, b) in zip(loss.detach().toArray(Float.self), expected) { #expect(abs(a - b) < 1e-5) }
        loss.sum().backward()
        let want = (F.sigmoid(x.detach()) - t).toArray(Float.self)
        for (a, b) in zip(x.grad!.toArray(Float.self), want) { #expect(abs(a - b) < 1e-6) }
    }

    @Test("an image without labelled pixels has only the classification term; the masks of present classes are counted once")
    func emptyImage() throws {
        let loss = ATMLoss()
        let logits = Tensor.randn([2, 3, 4]), masks = Tensor.randn([2, 3, 8, 8])
        var y = Tensor.full([2, 8, 8], 255, dtype: .int64)
        var value = loss([MaskPrediction(classLogits: logits, maskLogits: masks)], labels: y, ignoreIndex: 255)
        let terms = Dictionary(uniqueKeysWithValues: value.terms.map { ($0.name, $0.value.item()) })
        #expect(terms["loss_mask"] == 0 && terms["loss_dice"] == 0)
        // All queries are "no object": weighted mean = plain mean of -log p(no object).
        let expected = -F.logSoftmax(logits, dim: -1).narrow(2, start: 3, length: 1).mean().item()
        #expect(abs(terms["loss_ce"]! - expected) < 1e-6)

        // One image with class 1 everywhere: one mask, query 1 of image 0 matched.
        y = Tensor.cat([Tensor.full([1, 8, 8], 1, dtype: .int64), Tensor.full([1, 8, 8], 255, dtype: .int64)])
        value = loss([MaskPrediction(classLogits: logits, maskLogits: masks)], labels: y, ignoreIndex: 255)
        let dice = value.terms.first { $0.name == "loss_dice" }!.value.item()
        let p = F.sigmoid(masks[0][1]).flatten()
        let want = 1 - (2 * p.sum().item() + 1) / (p.sum().item() + 64 + 1)
        #expect(abs(dice - want) < 1e-5)
    }
}

@Suite("SegViT ImageNet checkpoint layouts")
struct SegViTKeyMapTests {
    /// The backbone of `model` written as timm names it (the inverse of vit2mmseg.py), plus timm's classifier and
    /// final norm, with its position embedding optionally replaced.
    static func timmLayout(_ model: SegViTSegmentation, posEmbed: Tensor? = nil) throws -> HostTensorDict {
        var out = HostTensorDict()
        let table = [("ln1.", "norm1."), ("ln2.", "norm2."), ("attn.attn.in_proj_weight", "attn.qkv.weight"),
                     ("attn.attn.in_proj_bias", "attn.qkv.bias"), ("attn.attn.out_proj.", "attn.proj."),
                     ("ffn.layers.0.0.", "mlp.fc1."), ("ffn.layers.1.", "mlp.fc2.")]
        for (key, tensor) in model.backbone.stateDict() {
            var name = key.replacingOccurrences(of: "patch_embed.projection.", with: "patch_embed.proj.")
            if name.hasPrefix("layers.") {
                name = "blocks." + name.dropFirst("layers.".count)
                for (from, to) in table { name = name.replacingOccurrences(of: from, with: to) }
            }
            out[name] = try (name == "pos_embed" ? posEmbed ?? tensor : tensor).detach().contiguous().host()
        }
        let d = model.config.embedDims
        out["norm.weight"] = try Tensor.ones([d]).host()
        out["norm.bias"] = try Tensor.zeros([d]).host()
        out["head.weight"] = try Tensor.zeros([1000, d]).host()
        out["head.bias"] = try Tensor.zeros([1000]).host()
        return out
    }

    static func tinyModel() throws -> SegViTSegmentation {
        try #require(try ModelRegistry.segmentation("segvit-tiny") as? SegViTSegmentation)
    }

    @Test("timm keys (blocks.N.attn.qkv, patch_embed.proj, norm, head) map onto the mmseg ViT keys and load the same weights")
    func timmSameGrid() throws {
        let source = try Self.tinyModel()
        let family = try ModelRegistry.family(of: "segvit-tiny")
        let timm = try Self.timmLayout(source)
        let map = try #require(family.keyMaps.first { $0.matches(timm.keys) })
        #expect(map.name.hasPrefix("timm"))
        let target = try Self.tinyModel()
        let converted = try map.apply(timm, to: target)
        #expect(converted["backbone.layers.0.attn.attn.in_proj_weight"] != nil && converted["backbone.patch_embed.projection.weight"] != nil)
        #expect(converted["norm.weight"] == nil && converted["head.weight"] == nil && converted["backbone.ln1.weight"] == nil)
        #expect(Set(converted.keys) == Set(source.backbone.stateDict().map { "backbone." + $0.0 }))
        let report = try target.load(stateDict: converted, strict: false)
        #expect(report.unexpected.isEmpty && report.shapeMismatches.isEmpty)
        let onlyHead = report.missing.allSatisfy { $0.hasPrefix("decode_head.") }
        #expect(onlyHead)
        let x = Tensor.randn([1, 3, 128, 128])
        let (a, b) = Torch.inferenceMode { (source.eval().backbone.features(x), target.eval().backbone.features(x)) }
        for (u, v) in zip(a, b) { #expect(Fixtures.maxAbsError(u, v) == 0) }
    }

    @Test("a position embedding of another grid is resized bicubically to the model's, rows and columns kept apart")
    func timmOtherGrid() throws {
        let model = try Self.tinyModel()
        let d = model.config.embedDims
        // A 4x4 grid (a 64-pixel pre-training size) whose channel 0 encodes the row and channel 1 the column.
        var values = [Float](repeating: 0.5, count: 17 * d)
        for i in 0..<16 {
            values[(1 + i) * d + 0] = Float(i / 4)
            values[(1 + i) * d + 1] = Float(i % 4)
        }
        values[0] = 42  // the cls entry is kept as is
        let timm = try Self.timmLayout(model, posEmbed: Tensor(values, shape: [1, 17, d]))
        let map = try #require(try ModelRegistry.family(of: "segvit-tiny").keyMaps.first { $0.matches(timm.keys) })
        let pos = try Tensor(host: try #require(try map.apply(timm, to: model)["backbone.pos_embed"]))
        #expect(pos.shape == [1, 65, d])
        #expect(pos[0][0][0].item() == 42)
        let grid = pos[0].slice(0, start: 1, end: 65).reshape([8, 8, d])
        let rows = grid.select(2, 0), cols = grid.select(2, 1)
        // Channel 0 is constant along each row and rises down the columns; channel 1 the transpose.
        #expect(Fixtures.maxAbsError(rows, rows.select(1, 0).unsqueeze(1).expand([8, 8])) < 1e-6)
        #expect(Fixtures.maxAbsError(cols, cols.select(0, 0).unsqueeze(0).expand([8, 8])) < 1e-6)
        #expect(Fixtures.maxAbsError(rows, cols.transpose(0, 1)) < 1e-6)
        let column = rows.select(1, 0).toArray(Float.self)
        let rising = zip(column, column.dropFirst()).allSatisfy { $0 <= $1 }
        #expect(rising && column.first! < column.last!)
        // A constant embedding stays constant; the same grid is untouched.
        #expect(abs(grid.select(2, 5).min().item() - 0.5) < 1e-6 && abs(grid.select(2, 5).max().item() - 0.5) < 1e-6)
        try model.load(stateDict: try map.apply(timm, to: model), strict: false)
    }

    @Test("mmseg's converted ViT backbone files (layers.N.attn.attn, final norm ln1) load too")
    func mmsegBackbone() throws {
        let source = try Self.tinyModel()
        var file = HostTensorDict()
        for (key, tensor) in source.backbone.stateDict() { file[key] = try tensor.detach().contiguous().host() }
        file["ln1.weight"] = try Tensor.ones([source.config.embedDims]).host()
        let map = try #require(try ModelRegistry.family(of: "segvit-tiny").keyMaps.first { $0.matches(file.keys) })
        #expect(map.name.hasPrefix("mmseg"))
        let converted = try map.apply(file, to: source)
        #expect(Set(converted.keys) == Set(source.backbone.stateDict().map { "backbone." + $0.0 }))
    }

    @Test("foreign layouts: the model's own keys match no map; unknown timm keys and impossible embeddings are errors")
    func errors() throws {
        let model = try Self.tinyModel()
        let family = try ModelRegistry.family(of: "segvit-tiny")
        let ownKeys = model.stateDict().map(\.0)
        let noneMatch = family.keyMaps.allSatisfy { !$0.matches(ownKeys) }
        #expect(noneMatch)
        var timm = try Self.timmLayout(model)
        timm["blocks.0.ls1.gamma"] = try Tensor.ones([model.config.embedDims]).host()
        let map = try #require(family.keyMaps.first { $0.matches(timm.keys) })
        #expect(throws: ModelError.self) { try map.apply(timm, to: model) }
        let wide = try Self.timmLayout(model, posEmbed: Tensor.zeros([1, 17, model.config.embedDims + 1]))
        #expect(throws: ModelError.self) { try map.apply(wide, to: model) }
    }
}

@Suite("SegViT registry entry")
struct SegViTFamilyTests {
    @Test("variants, normalisation (ViT-B ImageNet, ViT-L jax), loss and key maps")
    func variants() throws {
        let family = try ModelRegistry.family(of: "segvit")
        #expect(family.variants.filter { $0.kind == .segmentation }.map(\.name)
            == ["segvit-vit-b", "segvit-vit-l", "segvit-vit-l-shrunk", "segvit-vit-l-512", "segvit-vit-l-shrunk-512"])
        #expect(try ModelRegistry.variant("segvit-vit-b").normalization == .imageNet)
        for name in ["segvit-vit-l", "segvit-vit-l-shrunk", "segvit-vit-l-512", "segvit-vit-l-shrunk-512"] {
            #expect(try ModelRegistry.variant(name).normalization == .jax)
        }
        #expect(try ModelRegistry.variant("segvit-vit-l-512").defaultClasses == 171)
        #expect(family.loss.name == "atm")
        #expect(family.keyMaps.count == 2)
    }

    @Test("slide windows of the model's img_size with the official strides; mmseg 0.x TTA")
    func testProtocol() throws {
        let family = try ModelRegistry.family(of: "segvit")
        let cases: [(BenchmarkDataset, String, Int, Int, Int)] = [
            (.ade20k, "segvit-vit-b", 512, 341, 512), (.ade20k, "segvit-vit-l", 640, 608, 640),
            (.ade20k, "segvit-vit-l-shrunk", 640, 608, 640), (.cocoStuff, "segvit-vit-l-512", 512, 341, 512),
            (.cocoStuff, "segvit-vit-l-shrunk-512", 512, 341, 512), (.ade20k, "segvit-tiny", 128, 85, 128),
        ]
        for (dataset, variant, crop, stride, short) in cases {
            let p = family.testProtocol(dataset, variant)
            #expect(p.value.mode == .slide && p.value.slideCrop == .square(crop) && p.value.slideStride == .square(stride), "\(variant)")
            #expect(p.value.scale == ResizeScale(longSide: 2048, shortSide: short))
            #expect(p.value.sizeDivisor == nil && p.value.tta.rule == .scaleTestScale)
            #expect(p.source.contains("zbwxp/SegVit"))
        }
        #expect(family.testProtocol(.cityscapes, "segvit-vit-l").value.slideCrop == .square(640))
    }

    @Test("recipes of the ViT-L configs")
    func recipes() throws {
        let family = try ModelRegistry.family(of: "segvit")
        let ade = family.recipe(.ade20k, "segvit-vit-l").value
        #expect(ade.lr == 2e-5 && ade.weightDecay == 0.01 && ade.gradClipMaxNorm == 35 && ade.iterations == 160_000)
        #expect(ade.cropSize == .square(640) && ade.trainScale == ResizeScale(longSide: 2048, shortSide: 640) && ade.reduceZeroLabel)
        #expect(ade.paramRules == ["norm": ParamRule(decayMult: 0), "ln": ParamRule(decayMult: 0), "head": ParamRule(lrMult: 10)])
        // `head` first: decoder norms keep decay at lr x10; the ViT's ln1/ln2 lose decay.
        let rules = ParamGroupRules(customKeys: ade.paramRules)
        #expect(rules.match("decode_head.proj_norm_1.weight").rule == ParamRule(lrMult: 10))
        #expect(rules.match("backbone.layers.3.ln1.weight").rule == ParamRule(decayMult: 0))
        #expect(rules.match("backbone.pos_embed").key == nil)
        let coco = family.recipe(.cocoStuff, "segvit-vit-l-512").value
        #expect(coco.iterations == 80_000 && coco.power == 2 && coco.weightDecay == 0.02 && coco.cropSize == .square(512))
        #expect(family.recipe(.ade20k, "segvit-vit-b").value.cropSize == .square(512))
    }

    @Test("input constraints: square sides that are multiples of 32")
    func constraints() throws {
        let c = try ModelRegistry.family(of: "segvit").inputConstraints
        #expect(c.problem(with: Size2D(height: 512, width: 512), model: "segvit-vit-b") == nil)
        #expect(c.problem(with: Size2D(height: 480, width: 480), model: "segvit-vit-b") == nil)
        #expect(c.problem(with: Size2D(height: 512, width: 640), model: "segvit-vit-b")?.contains("square") == true)
        #expect(c.problem(with: Size2D(height: 496, width: 496), model: "segvit-vit-b") != nil)
        #expect(c.problem(with: Size2D(height: 16, width: 16), model: "segvit-vit-b") != nil)
    }
}
