import Foundation

/// The folder layouts SwiftSeg reads.
public enum DatasetLayout: String, Sendable, CaseIterable {
    case ade20k
    case cityscapes
    case cocoStuff164k = "coco-stuff164k"
    /// `images/{train,val}`, `labels/{train,val}`, `classes.json`.
    case folder
    /// `SynthDataset.generate` output: the ADE20K layout with `synth_classes.json`.
    case synth

    /// Guesses the layout from what is under `root`; throws `unknownLayout` listing what was looked for.
    public static func detect(root: URL) throws -> DatasetLayout {
        func has(_ path: String) -> Bool {
            FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path)
        }
        if has(SynthDataset.classesFileName) { return .synth }
        // `synth --out D` writes D/synth_classes.json beside D/ADEChallengeData2016: either folder is the synthetic set.
        if root.lastPathComponent == "ADEChallengeData2016",
           FileManager.default.fileExists(atPath: root.deletingLastPathComponent().appendingPathComponent(SynthDataset.classesFileName).path) {
            return .synth
        }
        if has("ADEChallengeData2016") || has("images/training") { return .ade20k }
        if has("leftImg8bit") && has("gtFine") { return .cityscapes }
        if has("images/train2017") || has("images/val2017") { return .cocoStuff164k }
        if has("classes.json") { return .folder }
        throw DatasetError(.unknownLayout, path: root.path,
                           reason: "no known data set layout: expected \(SynthDataset.classesFileName), ADEChallengeData2016/ (or images/training), leftImg8bit/ + gtFine/, images/train2017, or classes.json + images/ + labels/")
    }
}

extension SegDataset {
    /// Opens a split of `root` in the given layout (or the detected one when `layout` is nil).
    public static func open(_ layout: DatasetLayout? = nil, root: URL, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        switch try layout ?? DatasetLayout.detect(root: root) {
        case .ade20k: return try ade20k(root: root, split: split, mapInvalidToIgnore: mapInvalidToIgnore)
        case .cityscapes: return try cityscapes(root: root, split: split, mapInvalidToIgnore: mapInvalidToIgnore)
        case .cocoStuff164k: return try cocoStuff164k(root: root, split: split, mapInvalidToIgnore: mapInvalidToIgnore)
        case .folder: return try folder(root: root, split: split, mapInvalidToIgnore: mapInvalidToIgnore)
        case .synth: return try synth(root: root, split: split, mapInvalidToIgnore: mapInvalidToIgnore)
        }
    }
}
