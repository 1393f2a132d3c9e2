import Foundation

extension SegDataset {
    /// A generic layout: `images/{train,val}/*` and `labels/{train,val}/*` matched by file stem (labels
    /// are PNG), with the classes in `root/classes.json` (`{"names": [...], "palette": [[r,g,b], ...]}`,
    /// palette optional, `"reduce_zero_label": true` optional).
    public static func folder(root: URL, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        let classesURL = root.appendingPathComponent("classes.json")
        guard FileListing.fileExists(classesURL) else {
            throw DatasetError(.invalidClassesFile, path: classesURL.path, reason: "missing classes file ({\"names\": [...], \"palette\": [[r, g, b], ...]})")
        }
        let classesFile = try ClassesFile.read(classesURL)
        let imageDir = root.appendingPathComponent("images").appendingPathComponent(split.rawValue)
        let labelDir = root.appendingPathComponent("labels").appendingPathComponent(split.rawValue)
        try FileListing.requireDirectory(imageDir, "images, expected images/\(split.rawValue)")
        try FileListing.requireDirectory(labelDir, "labels, expected labels/\(split.rawValue)")
        var labelsByStem: [String: URL] = [:]
        for label in try FileListing.files(in: labelDir) where label.pathExtension.lowercased() == "png" {
            labelsByStem[FileListing.stem(label)] = label
        }
        let samples = try FileListing.images(in: imageDir, split: split).map { image in
            let stem = FileListing.stem(image)
            guard let label = labelsByStem[stem] else {
                throw FileListing.missingLabel(image: image, expected: labelDir.appendingPathComponent(stem + ".png"))
            }
            return SampleFiles(image: image, label: label)
        }
        return SegDataset(name: root.lastPathComponent, root: root, split: split, samples: samples, classes: classesFile.classes,
                          reduceZeroLabel: classesFile.reduceZeroLabel, mapInvalidToIgnore: mapInvalidToIgnore)
    }
}
