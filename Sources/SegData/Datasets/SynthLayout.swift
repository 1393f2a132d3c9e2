import Foundation

extension SegDataset {
    /// A `SynthDataset.generate` output: the ADE20K layout (annotation 0 = other, reduce_zero_label)
    /// with its classes read from `synth_classes.json` (`SynthDataset.classes` when the file is absent).
    public static func synth(root: URL, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        var classesURL = root.appendingPathComponent(SynthDataset.classesFileName)
        if !FileListing.fileExists(classesURL), root.lastPathComponent == "ADEChallengeData2016" {
            classesURL = root.deletingLastPathComponent().appendingPathComponent(SynthDataset.classesFileName)
        }
        let classes = FileListing.fileExists(classesURL) ? try ClassesFile.read(classesURL).classes : SynthDataset.classes
        let samples = try adeSamples(base: adeBase(root), split: split, layout: "synthetic")
        return SegDataset(name: "synthetic", root: root, split: split, samples: samples, classes: classes,
                          reduceZeroLabel: true, mapInvalidToIgnore: mapInvalidToIgnore)
    }
}
