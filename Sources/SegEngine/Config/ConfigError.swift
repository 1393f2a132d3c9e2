// Errors from reading, merging and checking a training config, worded for the person who wrote the file.

import Foundation
import SegModels
import Yams

public enum ConfigError: Error, Equatable, CustomStringConvertible {
    /// Keys the config does not know, each as "path.key" with a suggestion when one is close.
    case unknownKeys([String])
    case wrongType(path: String, message: String)
    case invalidValue(path: String, message: String)
    case syntax(message: String)
    case unknownModel(String)
    case cannotRead(path: String, reason: String)
    /// Values that decode but cannot train (from `validate()`), one message each.
    case invalid([String])

    public var description: String {
        switch self {
        case .unknownKeys(let keys):
            return "unknown config key\(keys.count == 1 ? "" : "s"): " + keys.joined(separator: "; ")
        case let .wrongType(path, message): return "config \(path): \(message)"
        case let .invalidValue(path, message): return "config \(path): \(message)"
        case .syntax(let message): return "config syntax error: \(message)"
        case .unknownModel(let name):
            return "no training preset for model '\(name)': expected one of "
                + ModelRegistry.variants.filter { $0.kind == .segmentation }.map(\.name).joined(separator: ", ")
        case let .cannotRead(path, reason): return "cannot read config \(path): \(reason)"
        case .invalid(let problems):
            return "invalid config:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
        }
    }

    /// Rewords a decoding error from JSONDecoder or Yams with the dotted path of the offending value.
    static func from(_ error: Error) -> Error {
        if let error = error as? ConfigError { return error }
        if let error = error as? YamlError { return ConfigError.syntax(message: "\(error)") }
        guard let error = error as? DecodingError else { return error }
        switch error {
        case let .typeMismatch(type, context):
            return ConfigError.wrongType(path: path(context.codingPath),
                                         message: "expected \(friendlyName(type)) (\(context.debugDescription))")
        case let .valueNotFound(type, context):
            return ConfigError.wrongType(path: path(context.codingPath),
                                         message: "expected \(friendlyName(type)), found null")
        case let .keyNotFound(key, context):
            return ConfigError.invalidValue(path: path(context.codingPath + [key]), message: "missing value")
        case let .dataCorrupted(context):
            if let underlying = context.underlyingError as? YamlError {
                return ConfigError.syntax(message: "\(underlying)")
            }
            if let underlying = context.underlyingError {
                return ConfigError.syntax(message: "\(context.debugDescription) \(underlying.localizedDescription)")
            }
            return ConfigError.invalidValue(path: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return error
        }
    }

    /// "optimizer.betas[1]"; "(top level)" for the root.
    static func path(_ codingPath: [CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == "\(index)" {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out.isEmpty ? "(top level)" : out
    }

    static func friendlyName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") || name.contains("Mapping") { return "a mapping of keys to values" }
            if name.contains("Sequence") { return "a list" }
            if name.contains("Scalar") { return "a single value" }
            return name
        }
    }
}
