import Torch

/// Builds models by name. Every family registers its variants here.
public enum ModelZoo {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let defaultClasses: Int
        let build: @Sendable (Int) -> Module
    }

    /// All model names, in display order.
    public static var entries: [Entry] { lrformerEntries + segformerEntries + extraFamilies.flatMap { $0() } }

    public static var names: [String] { entries.map { $0.name } }

    /// Other families (SegFormer, AFFormer, SegViT) append their variants here.
    nonisolated(unsafe) static var extraFamilies: [@Sendable () -> [Entry]] = []

    static var lrformerEntries: [Entry] {
        var out: [Entry] = []
        for (v, config) in LRFormerConfig.variants {
            out.append(Entry(name: "lrformer-\(v)", summary: "LRFormer-\(v.uppercased()) + LRHead (\(config.decoderChannels!) ch)",
                             defaultClasses: 150) { LRFormerSegmentation(name: "lrformer-\(v)", config: config, numClasses: $0) })
        }
        for (v, config) in LRFormerConfig.variants {
            out.append(Entry(name: "lrformer-\(v)-cls", summary: "LRFormer-\(v.uppercased()) ImageNet classifier (query 7x7)",
                             defaultClasses: 1000) { LRFormerClassifier(name: "lrformer-\(v)-cls", config: config, numClasses: $0) })
        }
        out.append(Entry(name: "lrformer-tiny", summary: "tiny test configuration of the parity fixtures", defaultClasses: 5) {
            LRFormerSegmentation(name: "lrformer-tiny", config: .tiny, numClasses: $0)
        })
        return out
    }

    public static func entry(_ name: String) throws -> Entry {
        guard let e = entries.first(where: { $0.name == name.lowercased() }) else {
            throw TorchError("model", "unknown model '\(name)'; available: \(names.joined(separator: ", "))")
        }
        return e
    }

    /// Any model (segmentation or classification) by name.
    public static func build(_ name: String, numClasses: Int? = nil) throws -> Module {
        let e = try entry(name)
        let k = numClasses ?? e.defaultClasses
        guard k > 0 && k <= 100_000 else { throw TorchError("model", "number of classes must be in 1...100000, got \(k)") }
        return e.build(k)
    }

    /// A segmentation model by name (throws for classifiers).
    public static func segmentation(_ name: String, numClasses: Int? = nil) throws -> any SegmentationModel {
        guard let m = try build(name, numClasses: numClasses) as? any SegmentationModel else {
            throw TorchError("model", "'\(name)' is not a segmentation model")
        }
        return m
    }
}
