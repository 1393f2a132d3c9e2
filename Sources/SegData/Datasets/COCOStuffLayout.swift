import Foundation

extension SegDataset {
    /// COCO-Stuff 164k (171 classes): `images/{train2017,val2017}/*.jpg` with train-id label maps
    /// `annotations/{train2017,val2017}/<stem>_labelTrainIds.png` (mmseg's converter output) or, failing
    /// that, `<stem>.png` holding train ids already. Raw stuffthingmaps (ids up to 181) fail the range
    /// check on load: convert them to train ids first.
    public static func cocoStuff164k(root: URL, split: DatasetSplit, mapInvalidToIgnore: Bool = false) throws -> SegDataset {
        let folder = split == .train ? "train2017" : "val2017"
        let imageDir = root.appendingPathComponent("images").appendingPathComponent(folder)
        let labelDir = root.appendingPathComponent("annotations").appendingPathComponent(folder)
        try FileListing.requireDirectory(imageDir, "COCO-Stuff images, expected images/\(folder)")
        try FileListing.requireDirectory(labelDir, "COCO-Stuff labels, expected annotations/\(folder)")
        let samples = try FileListing.images(in: imageDir, split: split).map { image in
            let stem = FileListing.stem(image)
            let trainIds = labelDir.appendingPathComponent(stem + "_labelTrainIds.png")
            if FileListing.fileExists(trainIds) { return SampleFiles(image: image, label: trainIds) }
            let plain = labelDir.appendingPathComponent(stem + ".png")
            guard FileListing.fileExists(plain) else { throw FileListing.missingLabel(image: image, expected: trainIds) }
            return SampleFiles(image: image, label: plain)
        }
        return SegDataset(name: "COCO-Stuff 164k", root: root, split: split, samples: samples, classes: .cocoStuff,
                          reduceZeroLabel: false, mapInvalidToIgnore: mapInvalidToIgnore)
    }
}
