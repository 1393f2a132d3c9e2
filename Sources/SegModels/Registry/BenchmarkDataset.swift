/// The public benchmarks whose official configs fix a training recipe and a test protocol for each family.
/// Other data (a folder of images, the synthetic set) borrows the ADE20K entries.
public enum BenchmarkDataset: String, CaseIterable, Sendable {
    case ade20k
    case cityscapes
    case cocoStuff = "coco-stuff"
}

/// A value together with the official file it was read from, so that reports can say where a number comes from.
public struct Official<Value: Sendable>: Sendable {
    public var value: Value
    /// The config file (repository and path) the value is taken from.
    public var source: String

    public init(_ value: Value, source: String) {
        self.value = value
        self.source = source
    }
}
