extension DatasetClasses {
    /// Cityscapes: the 19 evaluation classes (train ids 0...18) with mmsegmentation's `CityscapesDataset` palette.
    public static let cityscapes = DatasetClasses(
        names: [
            "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
            "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle",
            "bicycle",
        ],
        palette: cityscapesPalette
    )

    // Kept out of the initialiser call so the type checker sees a plainly typed literal.
    private static let cityscapesPalette: [[UInt8]] = [
        [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153],
        [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60],
        [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230],
        [119, 11, 32],
    ]
}

extension DatasetClasses {
    /// Cityscapes `labelIds` (as in `*_gtFine_labelIds.png`) to train ids 0...18, from cityscapesScripts'
    /// `labels.py`; every other value, including license plate (-1) and void classes, maps to 255 (ignore).
    /// Index with the label value: `table[Int(labelId)]`.
    public static let cityscapesLabelIdToTrainId: [UInt8] = {
        let trainIds: [Int: UInt8] = [
            7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
            23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
        ]
        return (0..<256).map { trainIds[$0] ?? LabelMap.ignoreIndex }
    }()
}
