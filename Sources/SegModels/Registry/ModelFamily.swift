import Foundation
import Torch

/// Everything SwiftSeg knows about one model family, in one value: its variants and builders, the input sizes it
/// takes, its official test protocol and training recipe per dataset, its loss, and the foreign checkpoint layouts
/// it reads. The engine and the command line ask the registry for these and never name a family.
public struct ModelFamily: Sendable {
    /// The prefix of its model names ("lrformer").
    public let name: String
    /// How papers write it ("LRFormer").
    public let title: String
    /// Paper and official repository.
    public let reference: String
    public let variants: [ModelVariant]
    public let inputConstraints: InputConstraints
    public let testProtocol: @Sendable (BenchmarkDataset, _ variant: String) -> Official<TestProtocol>
    public let recipe: @Sendable (BenchmarkDataset, _ variant: String) -> Official<TrainingRecipe>
    public let loss: SegmentationLoss
    /// Foreign layouts, tried in order when a checkpoint's keys do not match the model's.
    public let keyMaps: [CheckpointKeyMap]
    /// A self-describing checkpoint folder (a Hugging Face `config.json` + weights): model and class names.
    public let loadFolder: (@Sendable (URL) throws -> (model: any SegmentationModel, classNames: [String]))?
    /// State-dict prefixes of the BatchNorms its official configs make SyncBN (`norm_cfg=dict(type='SyncBN')`), e.g.
    /// the decode head's; the others stay per-process BatchNorm in multi-process training, as upstream.
    public let syncBatchNormPrefixes: [String]
    /// Published FLOPs and official CPU timings, for the comparison columns of `flops` and `bench`.
    public let flopReferences: [FlopReference]
    public let officialTimings: [OfficialTiming]

    public init(name: String, title: String, reference: String, variants: [ModelVariant], inputConstraints: InputConstraints,
                testProtocol: @escaping @Sendable (BenchmarkDataset, String) -> Official<TestProtocol>,
                recipe: @escaping @Sendable (BenchmarkDataset, String) -> Official<TrainingRecipe>,
                loss: SegmentationLoss = .pixelCrossEntropy, keyMaps: [CheckpointKeyMap] = [],
                loadFolder: (@Sendable (URL) throws -> (model: any SegmentationModel, classNames: [String]))? = nil,
                syncBatchNormPrefixes: [String] = [], flopReferences: [FlopReference] = [], officialTimings: [OfficialTiming] = []) {
        self.name = name
        self.title = title
        self.reference = reference
        self.variants = variants
        self.inputConstraints = inputConstraints
        self.testProtocol = testProtocol
        self.recipe = recipe
        self.loss = loss
        self.keyMaps = keyMaps
        self.loadFolder = loadFolder
        self.syncBatchNormPrefixes = syncBatchNormPrefixes
        self.flopReferences = flopReferences
        self.officialTimings = officialTimings
    }

    public func variant(_ name: String) -> ModelVariant? { variants.first { $0.name == name.lowercased() } }
}
