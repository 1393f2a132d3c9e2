import Foundation

extension SegDataset {
    /// Cityscapes (19 classes): `leftImg8bit/{train,val}/<city>/<name>_leftImg8bit.png` with
    /// `gtFine/{train,val}/<city>/<name>_gtFine_labelTrainIds.png` (make those with
    /// `CityscapesConversion.writeTrainIdLabels(root:)` when only `*_labelIds.png` exist).
    public static func cityscapes(root: URL, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        let imageDir = root.appendingPathComponent("leftImg8bit").appendingPathComponent(split.rawValue)
        let labelDir = root.appendingPathComponent("gtFine").appendingPathComponent(split.rawValue)
        try FileListing.requireDirectory(imageDir, "Cityscapes images, expected leftImg8bit/\(split.rawValue)/<city>/")
        try FileListing.requireDirectory(labelDir, "Cityscapes labels, expected gtFine/\(split.rawValue)/<city>/")
        let suffix = "_leftImg8bit.png"
        var samples: [SampleFiles] = []
        for cityDir in try FileListing.subdirectories(in: imageDir) {
            let city = cityDir.lastPathComponent
            for image in try FileListing.files(in: cityDir) where image.lastPathComponent.hasSuffix(suffix) {
                let name = String(image.lastPathComponent.dropLast(suffix.count))
                let cityLabels = labelDir.appendingPathComponent(city)
                let label = cityLabels.appendingPathComponent(name + "_gtFine_labelTrainIds.png")
                guard FileListing.fileExists(label) else {
                    var error = FileListing.missingLabel(image: image, expected: label)
                    if FileListing.fileExists(cityLabels.appendingPathComponent(name + "_gtFine_labelIds.png")) {
                        error = DatasetError(.missingLabel, path: image.path,
                                             reason: "no \(label.lastPathComponent) beside \(name)_gtFine_labelIds.png; convert the labelIds to train ids first (CityscapesConversion.writeTrainIdLabels)")
                    }
                    throw error
                }
                samples.append(SampleFiles(image: image, label: label))
            }
        }
        guard !samples.isEmpty else {
            throw DatasetError(.emptySplit, path: imageDir.path, reason: "no <city>/*\(suffix) images for split '\(split.rawValue)'")
        }
        return SegDataset(name: "Cityscapes", root: root, split: split, samples: samples, classes: .cityscapes,
                          reduceZeroLabel: false, mapInvalidToIgnore: mapInvalidToIgnore)
    }
}
