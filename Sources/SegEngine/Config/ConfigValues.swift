// The small value types a training config is made of: closed choices and image sizes.

import Foundation

/// A closed set of names; decoding an unknown name lists the valid ones.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {
    /// Other accepted spellings.
    static var aliases: [String: Self] { get }
}

extension ConfigChoice {
    public static var aliases: [String: Self] { [:] }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: name) ?? Self.aliases[name] ?? Self(rawValue: name.lowercased()) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "unknown value '\(name)'; expected one of: "
                    + Self.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

public enum DatasetKind: String, ConfigChoice {
    case ade20k
    case cityscapes
    case cocoStuff = "coco-stuff"
    /// `images/`, `labels/`, `classes.json`.
    case folder
    /// Generated shapes, for smoke tests.
    case synth

    public static var aliases: [String: DatasetKind] {
        ["coco-stuff164k": .cocoStuff, "coco_stuff164k": .cocoStuff, "cocostuff": .cocoStuff, "ade": .ade20k]
    }
}

public enum OptimizerKind: String, ConfigChoice {
    case adamw
    case sgd
}

public enum LRPolicy: String, ConfigChoice {
    /// Linear warm-up then polynomial decay (the mmseg recipes).
    case poly
    /// Linear warm-up then cosine annealing.
    case cosine
    /// Step decay every `stepSize` iterations (no warm-up).
    case step
}

public enum TestMode: String, ConfigChoice {
    /// The whole (resized) image in one forward pass.
    case whole
    /// Overlapping crops, logits averaged where they overlap.
    case slide
}

/// The model families that have training presets; a model name starts with one of them ("lrformer-t").
public enum ModelFamily: String, CaseIterable, Sendable {
    case lrformer
    case segformer
    case afformer
    case segvit

    /// The family of a model name such as "lrformer-t" or "SegFormer-B0"; nil when none matches.
    public init?(modelName: String) {
        let name = modelName.lowercased()
        guard let family = Self.allCases.first(where: { name == $0.rawValue || name.hasPrefix($0.rawValue + "-")
            || name.hasPrefix($0.rawValue + "_") }) else { return nil }
        self = family
    }

    /// The variant part of a model name ("t" for "lrformer-t").
    static func variant(of modelName: String) -> String {
        let name = modelName.lowercased()
        guard let dash = name.firstIndex(where: { $0 == "-" || $0 == "_" }) else { return "" }
        return String(name[name.index(after: dash)...])
    }
}

/// Height x width in pixels. Written as `[height, width]`, or one number for a square.
public struct Size2D: Codable, Equatable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    public static func square(_ side: Int) -> Size2D { Size2D(height: side, width: side) }

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
public struct ResizeScale: Codable, Equatable, Sendable {
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
}
