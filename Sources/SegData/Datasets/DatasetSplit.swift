import Foundation

/// Which part of a data set. Each layout has its own folder name for it
/// (ADE20K `training`/`validation`, COCO `train2017`/`val2017`, Cityscapes and folders `train`/`val`).
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train
    case val
}

/// One sample's files.
public struct SampleFiles: Sendable, Equatable {
    public var image: URL
    public var label: URL

    public init(image: URL, label: URL) {
        self.image = image
        self.label = label
    }
}
