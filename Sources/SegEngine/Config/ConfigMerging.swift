// Decoding a partial config onto a complete one. Every section merges what a file sets and keeps the rest,
// so a file may hold any subset of fields; keys a section does not know are collected (or thrown) with
// their path. Works with JSONDecoder and Yams' YAMLDecoder alike: decoding is driven by the field types,
// so YAML's `6e-5` (a string to YAML 1.1) still reads as a Double.

import Foundation

/// A config section that can overwrite its fields from a decoder holding a subset of them.
protocol ConfigSection: Encodable {
    mutating func merge(from decoder: Decoder) throws
}

/// Any key, to list what a mapping really holds.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Unknown keys found while decoding, so that one error lists them all instead of one per attempt.
final class UnknownKeyCollector {
    var entries: [String] = []
    /// Where a key unknown at its place belongs elsewhere (a `train` flag's name, another section's field),
    /// given its dotted path; consulted when no sibling key is close.
    var elsewhere: (String) -> String? = { _ in nil }
}

extension CodingUserInfoKey {
    static let configUnknownKeys = CodingUserInfoKey(rawValue: "swiftseg.config.unknownKeys")!
    static let configBase = CodingUserInfoKey(rawValue: "swiftseg.config.base")!
}

extension Decoder {
    /// A keyed container that first reports keys outside `K.allCases`: to the collector in `userInfo`
    /// when there is one, else by throwing.
    func configContainer<K: CodingKey & CaseIterable>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
        let known = K.allCases.map(\.stringValue)
        let present = try container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
        let unknown = present.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            let prefix = codingPath.isEmpty ? "" : ConfigError.path(codingPath) + "."
            let collector = userInfo[.configUnknownKeys] as? UnknownKeyCollector
            let described = unknown.map { key -> String in
                let suggestion = KeySuggestion.closest(to: key, among: known) ?? collector?.elsewhere(prefix + key)
                return prefix + key + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
            }
            if let collector {
                collector.entries += described
            } else {
                throw ConfigError.unknownKeys(described)
            }
        }
        return try container(keyedBy: K.self)
    }
}

extension KeyedDecodingContainer {
    /// Overwrites `value` when the key is present; `null` is a type error for a non-optional field.
    func merge<T: Decodable>(_ value: inout T, _ key: Key) throws {
        if contains(key) { value = try decode(T.self, forKey: key) }
    }

    /// Overwrites an optional field when the key is present; `null` clears it.
    func merge<T: Decodable>(_ value: inout T?, _ key: Key) throws {
        if contains(key) { value = try decodeNil(forKey: key) ? nil : decode(T.self, forKey: key) }
    }

    /// Merges a nested section field by field.
    func merge<T: ConfigSection>(_ value: inout T, _ key: Key) throws {
        if contains(key) { try value.merge(from: superDecoder(forKey: key)) }
    }

    /// A section that is also decodable as a whole still merges field by field.
    func merge<T: ConfigSection & Decodable>(_ value: inout T, _ key: Key) throws {
        if contains(key) { try value.merge(from: superDecoder(forKey: key)) }
    }
}

extension TrainConfig {
    /// Config keys under the names users bring from elsewhere: `train`'s flags and mmseg's config fields.
    static let keyAliases = ["iters": "iterations", "max_iters": "iterations", "batch": "batchSize",
                             "samples_per_gpu": "batchSize", "crop": "cropSize", "lr": "optimizer.lr",
                             "eval-interval": "evalInterval"]

    /// Where `path` (dotted, unknown where it stands) belongs: an alias, or the one field of the config whose own
    /// name matches its last component (`lr` at the top -> `optimizer.lr`, `warmup_iters` -> `schedule.warmupIters`).
    func suggestedKeyPath(for path: String) -> String? {
        let key = String(path.split(separator: ".").last ?? "")
        if let alias = Self.keyAliases[key] { return alias }
        let normal = { (s: Substring) in s.lowercased().filter { $0 != "_" && $0 != "-" } }
        let matches = keyPaths().filter { $0 != path && normal($0.split(separator: ".").last ?? "") == normal(Substring(key)) }
        return matches.count == 1 ? matches[0] : nil
    }

    /// Every field's dotted path, from the JSON encoding (sections as objects).
    func keyPaths() -> [String] {
        guard let data = try? jsonData(), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        func walk(_ object: [String: Any], _ prefix: String) -> [String] {
            object.flatMap { key, value in
                (value as? [String: Any]).map { walk($0, prefix + key + ".") } ?? [prefix + key]
            }
        }
        return walk(root, "").sorted()
    }
}

/// Close known keys for a misspelt one: same letters ignoring case, `_` and `-` (so mmseg's snake_case
/// `weight_decay` finds `weightDecay`), else at most two edits away.
enum KeySuggestion {
    static func closest(to key: String, among known: [String]) -> String? {
        let normal = { (s: String) in s.lowercased().filter { $0 != "_" && $0 != "-" } }
        if let same = known.first(where: { normal($0) == normal(key) }) { return same }
        let scored = known.map { ($0, distance(normal($0), normal(key))) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
