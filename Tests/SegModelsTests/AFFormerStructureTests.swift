import Foundation
import Testing
import Torch
import TorchIO
@testable import SegModels

/// The manifests (Resources/afformer, copied from shared/reference/afformer) list the official state_dict of the
/// ADE20K models: every key in order with shape and dtype, the alias groups of the shared cpe/crpe modules, and
/// the unique-parameter counts.
@Suite("AFFormer structure equals the official state_dict")
struct AFFormerStructureTests {
    struct AliasManifest {
        let aliases: [[String]]
        let paramsTotal: Int
        let paramsBackbone: Int
        let paramsHead: Int
        let paramsWithoutAlign: Int
        let entriesWithAliases: Int
        let numelWithAliases: Int
        let cityscapesParams: Int

        init(_ variant: String) throws {
            let url = Fixtures.resource("afformer/manifest-\(variant).json")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            func int(_ key: String) -> Int { (json[key] as! NSNumber).intValue }
            aliases = json["aliases"] as! [[String]]
            paramsTotal = int("params_total")
            paramsBackbone = int("params_backbone")
            paramsHead = int("params_head")
            paramsWithoutAlign = int("params_total_without_unused_align")
            entriesWithAliases = int("num_state_dict_entries")
            numelWithAliases = int("state_dict_numel_with_aliases")
            cityscapesParams = ((json["cityscapes_19cls"] as! [String: Any])["params_total"] as! NSNumber).intValue
        }
    }

    @Test("keys, order, shapes, dtypes, alias groups and parameter counts equal the manifest",
          arguments: ["tiny", "small", "base"])
    func manifest(variant: String) throws {
        let manifest = try Manifest(Fixtures.resource("afformer/manifest-\(variant).json"))
        let extra = try AliasManifest(variant)
        let model = try #require(try ModelRegistry.segmentation("afformer-\(variant)", numClasses: 150) as? AFFormerSegmentation)
        let entries = model.stateDict().map { ManifestEntry(key: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.description) }
        #expect(entries.count == manifest.entries.count && entries.count == extra.entriesWithAliases)
        for (a, b) in zip(entries, manifest.entries) where a != b {
            Issue.record("first difference: ours \(a) vs official \(b)")
            break
        }
        #expect(entries == manifest.entries)

        // One tensor per alias group, every alias key listed.
        #expect(model.sharedKeyGroups() == extra.aliases)
        #expect(model.stateDict().reduce(0) { $0 + $1.1.count } == extra.numelWithAliases)

        // Unique parameters, as PyTorch's named_parameters counts them.
        #expect(model.parameterCount == extra.paramsTotal)
        #expect(model.backbone.parameterCount == extra.paramsBackbone)
        #expect(model.decodeHead.parameterCount == extra.paramsHead)
        #expect(model.namedParameters().count == Set(model.parameters.map(ObjectIdentifier.init)).count)
        let unused = model.unusedParameterKeys
        #expect(unused == ["decode_head.align.conv.weight", "decode_head.align.gn.weight", "decode_head.align.gn.bias"])
        let unusedCount = model.stateDict().filter { unused.contains($0.0) }.reduce(0) { $0 + $1.1.count }
        #expect(model.parameterCount - unusedCount == extra.paramsWithoutAlign)

        let cityscapes = try ModelRegistry.segmentation("afformer-\(variant)", numClasses: 19)
        #expect(cityscapes.parameterCount == extra.cityscapesParams)
    }

    @Test("shared modules: one tensor bound to every alias key, trained once")
    func sharedTensors() throws {
        let model = try #require(try ModelRegistry.segmentation("afformer-tiny") as? AFFormerSegmentation)
        let dict = Dictionary(model.stateDict(), uniquingKeysWith: { a, _ in a })
        let prefix = "backbone.mhca_stages.2.mhca_blks.0."
        let group = [prefix + "crpe.conv_list.1.weight", prefix + "MHCA_layers.0.crpe.conv_list.1.weight",
                     prefix + "MHCA_layers.3.factoratt_crpe.crpe.conv_list.1.weight"]
        #expect(Set(group.map { ObjectIdentifier(dict[$0]!) }).count == 1)
        #expect(dict[prefix + "MHCA_layers.0.cpe.proj.bias"]! === dict[prefix + "cpe.proj.bias"]!)
        // The optimiser sees each shared tensor once, under its first (the encoder's) name.
        let names = model.namedParameters().map(\.0)
        #expect(names.contains(prefix + "cpe.proj.weight") && !names.contains(prefix + "MHCA_layers.1.cpe.proj.weight"))

        // A gradient step moves the shared weight once for all its uses: the alias keys still agree.
        let x = Tensor.randn([2, 3, 64, 64])
        let loss = model.logits(x).square().mean()
        loss.backward()
        let shared = dict[prefix + "crpe.conv_list.0.weight"]!
        #expect(shared.grad != nil)
        Torch.noGrad { shared.add_(shared.grad!, alpha: -0.1) }
        let after = Dictionary(model.stateDict(), uniquingKeysWith: { a, _ in a })
        #expect(Fixtures.maxAbsError(after[prefix + "MHCA_layers.2.factoratt_crpe.crpe.conv_list.0.weight"]!,
                                     after[prefix + "crpe.conv_list.0.weight"]!) == 0)
    }

    @Test("checkpoints round-trip with every alias key; disagreeing aliases are an error naming the keys")
    func aliasLoading() throws {
        let source = try ModelRegistry.segmentation("afformer-tiny")
        var host = HostTensorDict()
        for (k, t) in source.stateDict() { host[k] = try t.host() }
        #expect(host.count == 420)

        let target = try ModelRegistry.segmentation("afformer-tiny")
        let report = try target.load(stateDict: host)
        #expect(report.isClean && report.loaded == 420)
        for ((k, a), (_, b)) in zip(source.stateDict(), target.stateDict()) {
            #expect(Fixtures.maxAbsError(a, b) == 0, "\(k)")
        }

        // One alias of a stage-3 crpe conv altered: the load throws, naming both keys, and changes nothing.
        let key = "backbone.mhca_stages.3.mhca_blks.0.MHCA_layers.1.factoratt_crpe.crpe.conv_list.2.bias"
        let first = "backbone.mhca_stages.3.mhca_blks.0.crpe.conv_list.2.bias"
        var altered = host
        altered[key] = try (Tensor(host: host[key]!) + 1).host()
        let fresh = try ModelRegistry.segmentation("afformer-tiny")
        let before = try fresh.stateDict().first { $0.0 == first }!.1.host()
        do {
            try fresh.load(stateDict: altered, strict: false)
            Issue.record("a checkpoint whose aliases disagree loaded")
        } catch {
            let message = "\(error)"
            #expect(message.contains(key) && message.contains(first), "\(message)")
        }
        #expect(try fresh.stateDict().first { $0.0 == first }!.1.host() == before)

        // A missing alias key is a missing key for a strict load, as in PyTorch.
        var partial = host
        partial[key] = nil
        #expect(throws: TorchError.self) { try fresh.load(stateDict: partial) }
    }

    @Test("the ImageNet backbone layout maps to backbone.* and drops the classifier")
    func imageNetKeyMap() throws {
        let model = try ModelRegistry.segmentation("afformer-tiny")
        let family = try ModelRegistry.family(of: "afformer-tiny")
        var imagenet = HostTensorDict()
        for (k, t) in model.stateDict() where k.hasPrefix("backbone.") { imagenet[String(k.dropFirst(9))] = try t.host() }
        imagenet["head.weight"] = try Tensor.zeros([1000, 216]).host()
        let map = try #require(family.keyMaps.first { $0.matches(imagenet.keys) })
        #expect(!map.matches(model.stateDict().map(\.0)))
        let converted = try map.convert(imagenet)
        #expect(converted.keys == model.stateDict().map(\.0).filter { $0.hasPrefix("backbone.") })
        let report = try model.load(stateDict: converted, strict: false)
        #expect(report.missing.allSatisfy { $0.hasPrefix("decode_head.") } && report.unexpected.isEmpty)
    }
}
