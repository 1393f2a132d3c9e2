import Foundation

/// Height x width in pixels: image, crop, window and input sizes everywhere in SwiftSeg.
/// Written in files as `[height, width]` or one number for a square; on the command line as `512` or `1024x2048`.
public struct Size2D: Hashable, Codable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    public init(_ height: Int, _ width: Int) { self.init(height: height, width: width) }

    public static func square(_ side: Int) -> Size2D { Size2D(height: side, width: side) }

    /// "512" (a square) or "HxW" ("1024x2048"); positive integers only.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        self.init(height: parts[0]!, width: parts.count == 2 ? parts[1]! : parts[0]!)
    }

    /// `init?(parsing:)` that says what is wrong.
    public static func parse(_ text: String) throws -> Size2D {
        guard let size = Size2D(parsing: text) else {
            throw TorchError("size", "cannot read size '\(text)': expected N or HxW with positive integers, e.g. 512 or 1024x2048")
        }
        return size
    }

    public var area: Int { height * width }
    public var shortSide: Int { min(height, width) }
    public var longSide: Int { max(height, width) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let side = try? c.decode(Int.self) {
            self = .square(side)
            return
        }
        let pair = try c.decode([Int].self)
        guard pair.count == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected [height, width] or one number, got \(pair.count) numbers"))
        }
        self.init(height: pair[0], width: pair[1])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode([height, width])
    }

    public var description: String { "\(height)x\(width)" }
}

/// mmseg's keep-ratio `scale=(long, short)`: resize so that the long side is at most `longSide` and the
/// short side at most `shortSide`. Written as `[long, short]`, as mmseg's `(2048, 512)`.
public struct ResizeScale: Hashable, Codable, Sendable, CustomStringConvertible {
    public var longSide: Int
    public var shortSide: Int

    public init(longSide: Int, shortSide: Int) {
        self.longSide = longSide
        self.shortSide = shortSide
    }

    public init(from decoder: Decoder) throws {
        let pair = try decoder.singleValueContainer().decode([Int].self)
        guard pair.count == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected [long side, short side], got \(pair.count) numbers"))
        }
        self.init(longSide: max(pair[0], pair[1]), shortSide: min(pair[0], pair[1]))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode([longSide, shortSide])
    }

    public var description: String { "(\(longSide), \(shortSide))" }
}
