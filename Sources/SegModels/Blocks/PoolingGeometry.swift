import Foundation

/// The aspect-preserving pooled grid of LRSA: the short side gets `base` cells and the long side
/// `round(long * base / short + 0.001)` (Python's round, ties to even, as the official code).
public func lowResolutionGrid(base: Int, height: Int, width: Int) -> (Int, Int) {
    func pyRound(_ v: Double) -> Int { Int(v.rounded(.toNearestOrEven)) }
    if width >= height {
        return (base, pyRound(Double(width * base) / Double(height) + 0.001))
    } else {
        return (pyRound(Double(height * base) / Double(width) + 0.001), base)
    }
}

/// Scales the key/value pyramid's base sizes [11, 8, 6, 4] (defined for a 16-cell query) to another
/// query size: round(p * q / 16 + 0.001), as the LRHead and the classifier do.
public func scaledPyramid(_ sizes: [Int] = [11, 8, 6, 4], querySize: Int) -> [Int] {
    sizes.map { Int((Double($0 * querySize) / 16.0 + 0.001).rounded(.toNearestOrEven)) }
}
