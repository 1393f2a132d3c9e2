import Foundation
import Torch
import TorchIO

/// Locates test data: small fixtures are checked in under Resources/; large ones (parity-t) are read
/// from the reference folder beside the checkout (`../shared/reference`, or $SWIFTSEG_REFERENCE).
enum Fixtures {
    static let resources: URL = Bundle.module.url(forResource: "Resources", withExtension: nil)!

    static func resource(_ path: String) -> URL { resources.appendingPathComponent(path) }

    static var sharedReference: URL? {
        if let env = ProcessInfo.processInfo.environment["SWIFTSEG_REFERENCE"] {
            return URL(fileURLWithPath: env)
        }
        // Tests/SegModelsTests/Fixtures.swift -> repo root -> ../shared/reference
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = root.deletingLastPathComponent().appendingPathComponent("shared/reference")
        return FileManager.default.fileExists(atPath: candidate.path) ? candidate : nil
    }

    /// A file or folder of the shared reference data, nil when absent (tests gate on it with `.enabled(if:)`, so a
    /// missing fixture is reported as a skip, never as a pass).
    static func reference(_ path: String) -> URL? {
        guard let url = sharedReference?.appendingPathComponent(path), FileManager.default.fileExists(atPath: url.path) else { return nil }
        return url
    }

    static func tensors(_ url: URL) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in try SafeTensors.read(url).items { out[k] = try Tensor(host: v) }
        return out
    }

    /// max |a - b| / max |b|, the parity measure of the fixtures.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        let diff = (a.to(.float64) - b.to(.float64)).abs().max().item()
        let scale = b.to(.float64).abs().max().item()
        return diff / max(scale, 1e-12)
    }

    static func maxAbsError(_ a: Tensor, _ b: Tensor) -> Double {
        (a.to(.float64) - b.to(.float64)).abs().max().item()
    }
}

/// One entry of a reference manifest: key, shape, dtype.
struct ManifestEntry: Equatable {
    let key: String
    let shape: [Int]
    let dtype: String
}

struct Manifest {
    let entries: [ManifestEntry]
    let paramsTotal: Int?
    let paramsBackbone: Int?
    let paramsHead: Int?
    let numClasses: Int?

    init(_ url: URL) throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let raw = json["state_dict"] as! [[Any]]
        entries = raw.map { ManifestEntry(key: $0[0] as! String, shape: ($0[1] as! [Any]).map { ($0 as! NSNumber).intValue }, dtype: $0[2] as! String) }
        paramsTotal = (json["params_total"] as? NSNumber)?.intValue
        paramsBackbone = (json["params_backbone"] as? NSNumber)?.intValue
        paramsHead = (json["params_head"] as? NSNumber)?.intValue
        numClasses = ((json["config"] as? [String: Any])?["num_classes"] as? NSNumber)?.intValue
    }
}
