import Foundation
import Torch
import TorchIO

/// What loading a checkpoint into a model did.
public struct CheckpointLoad: Sendable {
    public var report: LoadReport
    /// The foreign layout the checkpoint was converted from (nil: it had the model's own keys).
    public var keyMap: String?
    /// Checkpoint entries the model holds but never uses in its forward pass (as upstream, e.g. AFFormer's `align`).
    public var unused: [String]
}

extension ModelRegistry {
    /// Loads `weights` into `model` (built from `modelName`): converts a foreign layout through the family's key
    /// maps when the keys do not match, refuses non-finite values (naming the tensors), and on a mismatch throws a
    /// summary that fits on a screen with a hint at the usual mistakes. `strict` false loads what matches
    /// (fine-tuning from a checkpoint with another head) and reports the rest.
    @discardableResult
    public static func load(_ weights: HostTensorDict, into model: Module, modelName: String, strict: Bool = true,
                            source: String) throws -> CheckpointLoad {
        var weights = weights
        var keyMap: String? = nil
        let ownKeys = Set(model.stateDict().map { $0.0 })
        if let family = try? family(of: modelName), !ownKeys.isSubset(of: Set(weights.keys)) {
            if let map = family.keyMaps.first(where: { $0.matches(weights.keys) }) {
                weights = try map.convert(weights)
                keyMap = map.name
            }
        }
        let shapes = Dictionary(uniqueKeysWithValues: weights.items.map { ($0.key, $0.value.shape) })
        var report = model.loadReport(forShapes: shapes)
        if strict && !report.isClean {
            let hint = mismatchHint(report, checkpointShapes: shapes, modelName: modelName)
            throw ModelError("\(source) does not fit \(modelName):\n\(report.summary())" + (hint.map { "\nhint: \($0)" } ?? ""))
        }
        report = try model.load(stateDict: weights, strict: strict)
        let bad = model.stateDict().filter { _, t in t.dtype.isFloatingPoint && !t.allFinite() }.map(\.0)
        if !bad.isEmpty {
            throw ModelError("\(source) holds non-finite values (NaN or infinity) in \(bad.count) tensor\(bad.count == 1 ? "" : "s"): "
                + bad.prefix(5).joined(separator: ", ") + (bad.count > 5 ? ", ..." : "")
                + "; the weights are damaged or come from a diverged run")
        }
        let unused = (model as? any SegmentationModel)?.unusedParameterKeys ?? []
        return CheckpointLoad(report: report, keyMap: keyMap, unused: unused)
    }

    /// Why `weights` may not fit `model` (built from `modelName`), recognised from their keys and shapes: optimizer
    /// state, another variant's or family's layout; nil when nothing is recognised.
    public static func layoutHint(for weights: HostTensorDict, model: Module, modelName: String) -> String? {
        let shapes = Dictionary(uniqueKeysWithValues: weights.items.map { ($0.key, $0.value.shape) })
        return mismatchHint(model.loadReport(forShapes: shapes), checkpointShapes: shapes, modelName: modelName)
    }

    /// The usual reasons a checkpoint does not fit, recognised from its keys.
    static func mismatchHint(_ report: LoadReport, checkpointShapes: [String: [Int]], modelName: String) -> String? {
        let checkpointKeys = Array(checkpointShapes.keys)
        // SwiftSeg's optimizer.safetensors and torch optimizer state dicts.
        if checkpointKeys.contains(where: { $0.hasPrefix("state.") || $0.hasSuffix(".exp_avg") || $0.hasSuffix(".exp_avg_sq")
            || $0.hasSuffix(".momentum_buffer") || $0.hasPrefix("param_groups") }) {
            return "this looks like optimizer state, not model weights: use the checkpoint folder or its model.safetensors"
        }
        // A model of the registry whose layout it has: first the family (key patterns, indices aside), then the variant
        // (every key and shape but the classifier's).
        if report.loaded == 0 || report.missing.count > checkpointKeys.count / 4 || report.shapeMismatches.count > checkpointKeys.count / 4,
           let (family, candidates) = familyWithLayout(of: checkpointShapes) {
            if family.name == (try? self.family(of: modelName))?.name || candidates.isEmpty == false {
                if let match = candidates.first(where: { $0 != modelName }) { return "its keys and shapes are those of \(match): pass --model \(match)" }
            }
            if family.name != (try? self.family(of: modelName))?.name {
                return "its keys follow the \(family.title) layout, not \(modelName)'s: pass one of "
                    + family.variants.filter { $0.kind == .segmentation }.map(\.name).joined(separator: ", ")
            }
        }
        if report.missing.isEmpty && report.unexpected.isEmpty,
           let model = try? segmentation(modelName), report.shapeMismatches.allSatisfy({ $0.key.hasPrefix(model.classifierKey.components(separatedBy: ".weight")[0]) }),
           let found = report.shapeMismatches.first(where: { $0.key == model.classifierKey })?.found.first {
            return "the checkpoint is for \(found) classes: pass --num-classes \(found) (or fine-tune with --load-from to change the head)"
        }
        return nil
    }

    /// The family whose state_dict key patterns (digits aside) the checkpoint's keys share (Jaccard >= 0.9), with its
    /// variants whose keys and shapes all match (the classifier's first dimension aside).
    static func familyWithLayout(of shapes: [String: [Int]]) -> (ModelFamily, [String])? {
        func patterns(_ keys: some Sequence<String>) -> Set<String> {
            Set(keys.map { $0.replacingOccurrences(of: "[0-9]+", with: "#", options: .regularExpression) })
        }
        let own = patterns(shapes.keys)
        for family in families {
            guard let probe = family.variants.first(where: { $0.kind == .testing }) ?? family.variants.first(where: { $0.kind == .segmentation }),
                  let model = try? build(probe.name) else { continue }
            let theirs = patterns(model.stateDict().map(\.0))
            let overlap = Double(own.intersection(theirs).count) / Double(max(own.union(theirs).count, 1))
            guard overlap >= 0.9 else { continue }
            let matching = family.variants.filter { $0.kind == .segmentation || $0.kind == .testing }.compactMap { v -> String? in
                guard let m = try? build(v.name) as? any SegmentationModel else { return nil }
                let classifier = m.classifierKey.replacingOccurrences(of: ".weight", with: ".")
                let entries = m.stateDict()
                return entries.count == shapes.count && entries.allSatisfy { key, t in
                    guard let shape = shapes[key] else { return false }
                    return key.hasPrefix(classifier) ? Array(shape.dropFirst()) == Array(t.shape.dropFirst()) : shape == t.shape
                } ? v.name : nil
            }
            return (family, matching)
        }
        return nil
    }
}
