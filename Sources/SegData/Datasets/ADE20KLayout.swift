import Foundation

extension SegDataset {
    /// ADE20K (SceneParsing, 150 classes, reduce_zero_label):
    /// `ADEChallengeData2016/images/{training,validation}/*.jpg` with
    /// `ADEChallengeData2016/annotations/{training,validation}/<stem>.png`.
    /// `root` may be the folder holding `ADEChallengeData2016` or that folder itself.
    public static func ade20k(root: URL, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        let base = adeBase(root)
        let samples = try adeSamples(base: base, split: split, layout: "ADE20K")
        return SegDataset(name: "ADE20K", root: root, split: split, samples: samples, classes: .ade20k,
                          reduceZeroLabel: true, mapInvalidToIgnore: mapInvalidToIgnore)
    }

    /// The folder holding `images/` and `annotations/`.
    static func adeBase(_ root: URL) -> URL {
        let nested = root.appendingPathComponent("ADEChallengeData2016")
        return FileListing.isDirectory(nested) ? nested : root
    }

    static func adeSamples(base: URL, split: DatasetSplit, layout: String) throws -> [SampleFiles] {
        let folder = split == .train ? "training" : "validation"
        let imageDir = base.appendingPathComponent("images").appendingPathComponent(folder)
        let labelDir = base.appendingPathComponent("annotations").appendingPathComponent(folder)
        try FileListing.requireDirectory(imageDir, "\(layout) images, expected ADEChallengeData2016/images/\(folder)")
        try FileListing.requireDirectory(labelDir, "\(layout) annotations, expected ADEChallengeData2016/annotations/\(folder)")
        return try FileListing.images(in: imageDir, split: split).map { image in
            let label = labelDir.appendingPathComponent(FileListing.stem(image) + ".png")
            guard FileListing.fileExists(label) else { throw FileListing.missingLabel(image: image, expected: label) }
            return SampleFiles(image: image, label: label)
        }
    }
}
