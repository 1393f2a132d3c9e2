import Foundation

/// A listed split of a segmentation data set: its samples' files, its classes, and how its label
/// files are to be read. Open one with a layout (`SegDataset.ade20k(root:split:)`, ...,
/// `SegDataset.open(_:root:split:)`); loading a sample decodes and checks it.
public struct SegDataset: Sendable {
    /// The layout's name, for messages ("ADE20K", "Cityscapes", ...).
    public let name: String
    public let root: URL
    public let split: DatasetSplit
    public let samples: [SampleFiles]
    public let classes: DatasetClasses
    /// Label value meaning "not labelled" after loading.
    public let ignoreIndex: UInt8
    /// mmseg's `reduce_zero_label` (0 -> ignore, others - 1), applied on load.
    public let reduceZeroLabel: Bool
    /// When set, label values that are not classes become ignore instead of an error.
    public var mapInvalidToIgnore: Bool

    public init(name: String, root: URL, split: DatasetSplit, samples: [SampleFiles], classes: DatasetClasses,
                ignoreIndex: UInt8 = LabelMap.ignoreIndex, reduceZeroLabel: Bool, mapInvalidToIgnore: Bool = false) {
        self.name = name
        self.root = root
        self.split = split
        self.samples = samples
        self.classes = classes
        self.ignoreIndex = ignoreIndex
        self.reduceZeroLabel = reduceZeroLabel
        self.mapInvalidToIgnore = mapInvalidToIgnore
    }

    public var count: Int { samples.count }
    public var numClasses: Int { classes.count }

    /// Decodes sample `index`: the RGB image and its label map after reduce_zero_label, checked.
    public func load(_ index: Int) throws -> SegSample {
        guard samples.indices.contains(index) else {
            throw DatasetError(.indexOutOfRange, path: root.path, reason: "sample \(index) requested from \(name) \(split.rawValue), which has \(samples.count)")
        }
        let files = samples[index]
        let image = try ImageIO.readImage(files.image)
        let label = try loadLabel(files.label)
        guard image.width == label.width && image.height == label.height else {
            throw DatasetError(.sizeMismatch, path: files.label.path,
                               reason: "label is \(label.width)x\(label.height) but its image \(files.image.path) is \(image.width)x\(image.height)")
        }
        return SegSample(image: image.rgb(), label: label)
    }

    /// Reads a label file as this data set's labels: reduce_zero_label applied, values checked.
    public func loadLabel(_ url: URL) throws -> LabelMap {
        var label = try ImageIO.readLabelMap(url)
        if reduceZeroLabel { label = label.reducingZeroLabel() }
        try checkLabels(&label, file: url)
        return label
    }

    /// Throws on the first value that is neither a class index nor `ignoreIndex`, naming the file,
    /// the value and its pixel; with `mapInvalidToIgnore` such values become `ignoreIndex` instead.
    func checkLabels(_ label: inout LabelMap, file: URL) throws {
        let n = numClasses
        guard let first = label.labels.firstIndex(where: { Int($0) >= n && $0 != ignoreIndex }) else { return }
        if mapInvalidToIgnore {
            for i in first..<label.labels.count where Int(label.labels[i]) >= n && label.labels[i] != ignoreIndex {
                label.labels[i] = ignoreIndex
            }
            return
        }
        let value = label.labels[first]
        let stored = reduceZeroLabel ? " (\(Int(value) + 1) in the file, before reduce_zero_label)" : ""
        throw DatasetError(.labelOutOfRange, path: file.path,
                           reason: "label value \(value)\(stored) at pixel (x: \(first % label.width), y: \(first / label.width)) is not a class of \(name) (0...\(n - 1)) nor \(ignoreIndex) (ignore); open the data set with mapInvalidToIgnore to treat such values as ignore")
    }
}

extension SegDataset {
    /// This split with reduce_zero_label switched as a training config says (the layout's convention otherwise).
    public func withReduceZeroLabel(_ on: Bool) -> SegDataset {
        SegDataset(name: name, root: root, split: split, samples: samples, classes: classes, ignoreIndex: ignoreIndex,
                   reduceZeroLabel: on, mapInvalidToIgnore: mapInvalidToIgnore)
    }
}

extension SegDataset {
    /// The first `count` samples (all when there are fewer).
    public func prefix(_ count: Int) -> SegDataset {
        guard count < samples.count else { return self }
        return SegDataset(name: name, root: root, split: split, samples: Array(samples.prefix(max(count, 0))), classes: classes,
                          ignoreIndex: ignoreIndex, reduceZeroLabel: reduceZeroLabel, mapInvalidToIgnore: mapInvalidToIgnore)
    }
}
