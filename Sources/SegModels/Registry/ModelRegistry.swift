import Torch

/// The model families SwiftSeg builds. Adding a family is one file (or folder) in SegModels that defines its
/// `ModelFamily` value, plus its line here.
public enum ModelRegistry {
    public static let families: [ModelFamily] = [
        .lrformer,
        .lrformerPlus,
        .segformer,
        .afformer,
        .segvit,
    ]

    /// The model `swiftseg demo` trains by default: SegFormer-B0 learns the synthetic 96x96 scenes from scratch in
    /// seconds (300 steps: 55% mIoU in under a minute on 2 cores). LRFormer-T's fixed low-resolution attention costs
    /// the same at 96x96 as at 512x512 (1.1 s a step of 4 images, 15% mIoU after 240 steps), so it is the longer run's.
    public static let demoModel = "segformer-b0"

    /// The model `swiftseg demo --full` trains: the project's own (LRFormer-T).
    public static let fullDemoModel = "lrformer-t"

    /// Every variant of every family, in display order.
    public static var variants: [ModelVariant] { families.flatMap(\.variants) }

    public static var names: [String] { variants.map(\.name) }

    /// The family a model name belongs to: "lrformer-t" -> LRFormer; a family name ("segformer") is its own.
    public static func family(of modelName: String) throws -> ModelFamily {
        let name = modelName.lowercased()
        if let f = families.first(where: { $0.name == name || $0.variant(name) != nil }) { return f }
        throw ModelError("unknown model '\(modelName)'; available: \(names.joined(separator: ", "))")
    }

    public static func variant(_ modelName: String) throws -> ModelVariant {
        guard let v = try family(of: modelName).variant(modelName) else {
            throw ModelError("'\(modelName)' is a model family; name one of its models: "
                + (try family(of: modelName)).variants.map(\.name).joined(separator: ", "))
        }
        return v
    }

    /// Any model (segmentation, classifier or backbone) by name.
    public static func build(_ name: String, numClasses: Int? = nil) throws -> Module {
        let v = try variant(name)
        if v.kind == .backbone { return v.build(0) }  // no classifier: a class count means nothing
        let k = numClasses ?? v.defaultClasses
        guard k > 0 && k <= 100_000 else { throw ModelError("number of classes must be in 1...100000, got \(k)") }
        return v.build(k)
    }

    /// A segmentation model by name (throws for classifiers and backbones).
    public static func segmentation(_ name: String, numClasses: Int? = nil) throws -> any SegmentationModel {
        guard let m = try build(name, numClasses: numClasses) as? any SegmentationModel else {
            throw ModelError("'\(name)' is not a segmentation model")
        }
        return m
    }
}
