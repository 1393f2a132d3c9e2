/// A closed set of names (an enum with String raw values) that decodes from JSON/YAML by name, accepting
/// other spellings, and says which names are valid when it meets an unknown one.
public protocol ClosedChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {
    /// Other accepted spellings.
    static var aliases: [String: Self] { get }
}

extension ClosedChoice {
    public static var aliases: [String: Self] { [:] }

    /// The case named `text` (raw value, alias or either lower-cased).
    public init?(name text: String) {
        guard let value = Self(rawValue: text) ?? Self.aliases[text] ?? Self(rawValue: text.lowercased())
            ?? Self.aliases[text.lowercased()] else { return nil }
        self = value
    }

    public static var validNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown value '\(name)'; expected one of: \(Self.validNames)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension BenchmarkDataset: ClosedChoice {}
extension TestMode: ClosedChoice {}
extension TTARule: ClosedChoice {}
extension OptimizerKind: ClosedChoice {}
extension LRPolicy: ClosedChoice {}
