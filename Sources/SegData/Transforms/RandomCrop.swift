/// mmseg's `RandomCrop`: a uniformly placed crop of `size` (smaller where the image is smaller).
/// With `catMaxRatio < 1` the placement is redrawn (up to `maxRetries` times) until the crop holds
/// more than one non-ignored class and none covers `catMaxRatio` or more of its non-ignored pixels;
/// as in mmseg, when every try fails the last drawn placement is used.
public struct RandomCrop: Sendable {
    public var size: (height: Int, width: Int)
    public var catMaxRatio: Double
    public var ignoreIndex: UInt8
    public var maxRetries: Int

    public init(size: (height: Int, width: Int), catMaxRatio: Double = 0.75, ignoreIndex: UInt8 = LabelMap.ignoreIndex, maxRetries: Int = 10) {
        precondition(size.height > 0 && size.width > 0, "RandomCrop: crop size must be positive")
        self.size = size
        self.catMaxRatio = catMaxRatio
        self.ignoreIndex = ignoreIndex
        self.maxRetries = maxRetries
    }

    /// A crop rectangle (top-left corner and extent, clamped to the image).
    public struct Box: Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
    }

    /// Draws a placement inside a `width` x `height` image.
    public func randomBox<G: RandomNumberGenerator>(width: Int, height: Int, using rng: inout G) -> Box {
        let marginH = max(height - size.height, 0), marginW = max(width - size.width, 0)
        let y = rng.integer(below: marginH + 1)
        let x = rng.integer(below: marginW + 1)
        return Box(x: x, y: y, width: min(size.width, width - x), height: min(size.height, height - y))
    }

    /// True when the labels inside `box` pass the category-ratio test.
    public func isBalanced(_ labels: LabelMap, box: Box) -> Bool {
        var counts = [Int](repeating: 0, count: 256)
        labels.labels.withUnsafeBufferPointer { p in
            for row in box.y..<(box.y + box.height) {
                let base = row * labels.width + box.x
                for i in base..<(base + box.width) { counts[Int(p[i])] += 1 }
            }
        }
        counts[Int(ignoreIndex)] = 0
        let present = counts.filter { $0 > 0 }
        let total = present.reduce(0, +)
        guard present.count > 1, let largest = present.max() else { return false }
        return Double(largest) / Double(total) < catMaxRatio
    }

    /// The placement mmseg would choose: first draw, then redraws while unbalanced.
    public func chooseBox<G: RandomNumberGenerator>(for labels: LabelMap, using rng: inout G) -> Box {
        var box = randomBox(width: labels.width, height: labels.height, using: &rng)
        guard catMaxRatio < 1 else { return box }
        for _ in 0..<maxRetries {
            if isBalanced(labels, box: box) { break }
            box = randomBox(width: labels.width, height: labels.height, using: &rng)
        }
        return box
    }

    public func apply<G: RandomNumberGenerator>(_ sample: SegSample, using rng: inout G) -> SegSample {
        let b = chooseBox(for: sample.label, using: &rng)
        return SegSample(image: sample.image.cropped(x: b.x, y: b.y, width: b.width, height: b.height),
                         label: sample.label.cropped(x: b.x, y: b.y, width: b.width, height: b.height))
    }
}
