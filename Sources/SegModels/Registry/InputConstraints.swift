import Torch

/// The input sizes a family's network runs on; every command checks its sizes against them before a forward
/// pass, so that a bad size is a clear error instead of a trap deep in an operator.
public struct InputConstraints: Sendable, Equatable {
    /// The smallest height and width that run.
    public var minimumSide: Int
    /// Heights and widths must be a multiple of this (nil: any size).
    public var multiple: Int?
    /// Height must equal width (SegViT's ATM head reshapes its tokens to a square grid).
    public var square: Bool

    public init(minimumSide: Int, multiple: Int? = nil, square: Bool = false) {
        self.minimumSide = minimumSide
        self.multiple = multiple
        self.square = square
    }

    /// The smallest size at least `size` in both sides that runs: sides raised to the minimum, rounded up to the
    /// multiple, and equal where the network needs squares.
    public func smallestRunnableSize(covering size: Size2D) -> Size2D {
        func side(_ n: Int) -> Int {
            let atLeast = max(n, minimumSide)
            guard let m = multiple else { return atLeast }
            return (atLeast + m - 1) / m * m
        }
        let padded = Size2D(height: side(size.height), width: side(size.width))
        guard square else { return padded }
        let longest = max(padded.height, padded.width)
        return Size2D(height: longest, width: longest)
    }

    /// nil when `size` runs, else what is wrong and which size would work.
    public func problem(with size: Size2D, model: String) -> String? {
        if size.height < minimumSide || size.width < minimumSide {
            return "\(model) needs inputs of at least \(minimumSide)x\(minimumSide); \(size) is too small"
                + " (use a crop or window of \(max(minimumSide, multiple ?? 1)) or more)"
        }
        if let m = multiple, size.height % m != 0 || size.width % m != 0 {
            let fix = Size2D(height: (size.height + m - 1) / m * m, width: (size.width + m - 1) / m * m)
            return "\(model) needs sides that are multiples of \(m); \(size) is not (e.g. \(fix))"
        }
        if square && size.height != size.width {
            return "\(model) needs square inputs; \(size) is not (run it on square windows: slide inference)"
        }
        return nil
    }
}
