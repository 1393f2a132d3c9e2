// Reading configs from JSON or YAML (complete or partial) and writing the resolved config as JSON.

import Foundation
import SegModels
import TorchIO
import Yams

public enum ConfigFormat: Sendable {
    case json
    case yaml

    /// By file extension: .json is JSON, anything else YAML (which also reads most JSON).
    public init(url: URL) {
        self = url.pathExtension.lowercased() == "json" ? .json : .yaml
    }
}

/// Holds the config a partial file is merged onto, for `MergedConfig.init(from:)`.
private final class ConfigBase {
    var config: TrainConfig
    init(_ config: TrainConfig) { self.config = config }
}

/// Decodes as "the base from userInfo, then every field the file sets".
private struct MergedConfig: Decodable {
    var config: TrainConfig
    init(from decoder: Decoder) throws {
        guard let base = decoder.userInfo[.configBase] as? ConfigBase else {
            preconditionFailure("MergedConfig decoded without a base")
        }
        config = base.config
        try config.merge(from: decoder)
    }
}

extension TrainConfig {
    /// Reads a config file. The starting point is the preset of `model` and `dataset` when given (command-line
    /// flags win over the file), else of the file's own `model` and `dataset.kind` (ADE20K by default); the
    /// file's other fields are then merged onto it.
    public static func load(contentsOf url: URL, model: String? = nil, dataset: DatasetKind? = nil) throws -> TrainConfig {
        let data: Data
        if let problem = FileAccess.readProblem(url) { throw ConfigError.cannotRead(path: url.path, reason: problem) }
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConfigError.cannotRead(path: url.path, reason: FileAccess.reason(error))
        }
        return try decode(data, format: ConfigFormat(url: url), model: model, dataset: dataset)
    }

    /// The data set a config file names (`dataset.kind`), nil when it names none.
    public static func datasetNamed(in url: URL) throws -> DatasetKind? {
        let data: Data
        if let problem = FileAccess.readProblem(url) { throw ConfigError.cannotRead(path: url.path, reason: problem) }
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConfigError.cannotRead(path: url.path, reason: FileAccess.reason(error))
        }
        return try ConfigDocument.run(data, format: ConfigFormat(url: url)) { try PresetSelection(from: $0) }?.dataset
    }

    /// `load(contentsOf:)` on text in memory.
    public static func decode(_ data: Data, format: ConfigFormat, model: String? = nil,
                              dataset: DatasetKind? = nil) throws -> TrainConfig {
        let selection = try ConfigDocument.run(data, format: format) { try PresetSelection(from: $0) }
        guard let modelName = model ?? selection?.model else {
            throw ConfigError.invalidValue(path: "model", message: "missing: name the model in the file (`model: \(ModelRegistry.demoModel)`) or on the command line")
        }
        var config = try preset(model: modelName, dataset: dataset ?? selection?.dataset ?? .ade20k)
        config = try config.merging(data, format: format)
        // Explicit choices win over the file.
        if let model { config.model = model }
        if let dataset { config.dataset.kind = dataset }
        return config
    }

    /// This config with the fields a (partial) JSON or YAML document sets overwritten. Every unknown key is
    /// reported at once, with its path and a suggestion.
    public func merging(_ data: Data, format: ConfigFormat) throws -> TrainConfig {
        let merged = try ConfigDocument.run(data, format: format, base: self) { try MergedConfig(from: $0) }
        return merged?.config ?? self
    }

    public func merging(yaml: String) throws -> TrainConfig { try merging(Data(yaml.utf8), format: .yaml) }
    public func merging(json: String) throws -> TrainConfig { try merging(Data(json.utf8), format: .json) }

    public func merging(contentsOf url: URL) throws -> TrainConfig {
        let data: Data
        if let problem = FileAccess.readProblem(url) { throw ConfigError.cannotRead(path: url.path, reason: problem) }
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConfigError.cannotRead(path: url.path, reason: FileAccess.reason(error))
        }
        return try merging(data, format: ConfigFormat(url: url))
    }

    /// The resolved config as pretty-printed JSON with sorted keys (every field, nulls included).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Writes `jsonData()` to `url` (e.g. `<work dir>/config.json`).
    public func save(to url: URL) throws {
        try jsonData().writeAtomically(to: url)
    }
}

/// Runs a decoding closure over a JSON or YAML document with an unknown-key collector (and a merge base),
/// and turns decoding errors into `ConfigError`s. Returns nil for an empty document.
private enum ConfigDocument {
    /// Wraps the closure as a Decodable so that both decoders can drive it.
    private struct Run<T>: Decodable {
        var value: T
        init(from decoder: Decoder) throws {
            guard let body = decoder.userInfo[.configBody] as? Body<T> else { preconditionFailure("no body") }
            value = try body.run(decoder)
        }
    }

    private final class Body<T> {
        let run: (Decoder) throws -> T
        init(_ run: @escaping (Decoder) throws -> T) { self.run = run }
    }

    static func run<T>(_ data: Data, format: ConfigFormat, base: TrainConfig? = nil,
                       _ body: @escaping (Decoder) throws -> T) throws -> T? {
        let collector = UnknownKeyCollector()
        if let base { collector.elsewhere = base.suggestedKeyPath }
        var userInfo: [CodingUserInfoKey: Any] = [.configUnknownKeys: collector, .configBody: Body(body)]
        if let base { userInfo[.configBase] = ConfigBase(base) }
        let result: T
        do {
            switch format {
            case .json:
                let text = String(decoding: data, as: UTF8.self)
                if text.allSatisfy(\.isWhitespace) { return nil }
                let decoder = JSONDecoder()
                decoder.userInfo = userInfo
                result = try decoder.decode(Run<T>.self, from: data).value
            case .yaml:
                guard let text = String(data: data, encoding: .utf8) else {
                    throw ConfigError.syntax(message: "the file is not UTF-8 text")
                }
                // An empty document (or only comments) overrides nothing.
                guard try Yams.compose(yaml: text) != nil else { return nil }
                result = try YAMLDecoder().decode(Run<T>.self, from: text, userInfo: userInfo).value
            }
        } catch {
            throw ConfigError.from(error)
        }
        if !collector.entries.isEmpty { throw ConfigError.unknownKeys(collector.entries) }
        return result
    }
}

extension CodingUserInfoKey {
    fileprivate static let configBody = CodingUserInfoKey(rawValue: "swiftseg.config.body")!
}
