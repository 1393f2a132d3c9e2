// The closed choices of a training config. The model-side ones (test mode, optimiser, LR policy, TTA rule) are
// defined with the model families in SegModels; sizes (`Size2D`, `ResizeScale`) in Torch.

import Foundation
import SegModels

/// A closed set of names; decoding an unknown name lists the valid ones.
public typealias ConfigChoice = ClosedChoice

public enum DatasetKind: String, ConfigChoice {
    case ade20k
    case cityscapes
    case cocoStuff = "coco-stuff"
    /// `images/`, `labels/`, `classes.json`.
    case folder
    /// Generated shapes, for smoke tests.
    case synth

    public static var aliases: [String: DatasetKind] {
        ["coco-stuff164k": .cocoStuff, "coco_stuff164k": .cocoStuff, "cocostuff": .cocoStuff, "ade": .ade20k]
    }

    /// The public benchmark whose official recipe and test protocol apply; other data borrows ADE20K's.
    public var benchmark: BenchmarkDataset {
        switch self {
        case .ade20k, .folder, .synth: return .ade20k
        case .cityscapes: return .cityscapes
        case .cocoStuff: return .cocoStuff
        }
    }
}
