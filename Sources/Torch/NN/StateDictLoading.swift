import Foundation
import TorchIO

/// What a checkpoint load found, key by key.
public struct LoadReport: Sendable, CustomStringConvertible {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var shapeMismatches: [(key: String, expected: [Int], found: [Int])] = []
    public var loaded = 0

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    public var description: String {
        var lines = ["loaded \(loaded) tensors"]
        if !missing.isEmpty { lines.append("missing keys (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("unexpected keys (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
        if !shapeMismatches.isEmpty {
            lines.append("shape mismatches (\(shapeMismatches.count)): "
                + shapeMismatches.map { "\($0.key) expects \($0.expected), checkpoint has \($0.found)" }.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

extension Module {
    /// Copies tensors into this module's parameters and buffers by state_dict key.
    /// With `strict`, any missing key, unexpected key or shape mismatch throws (listing all of them)
    /// and nothing is modified; otherwise the matching entries are loaded and the report says what was not.
    @discardableResult
    public func load(stateDict source: [String: Tensor], strict: Bool = true) throws -> LoadReport {
        var report = LoadReport()
        let own = stateDict()
        let ownKeys = Set(own.map { $0.0 })
        var plan: [(Tensor, Tensor)] = []
        for (key, dst) in own {
            guard let src = source[key] else { report.missing.append(key); continue }
            guard src.shape == dst.shape else {
                report.shapeMismatches.append((key, dst.shape, src.shape))
                continue
            }
            plan.append((dst, src))
        }
        report.unexpected = source.keys.filter { !ownKeys.contains($0) }.sorted()
        if strict && !report.isClean {
            throw TorchError("load_state_dict", "checkpoint does not match the model:\n\(report.description)")
        }
        try Torch.noGrad {
            for (dst, src) in plan {
                try dst.checked.copy_(src.to(dtype: dst.dtype, device: dst.device))
            }
        }
        report.loaded = plan.count
        return report
    }

    /// Loads host tensors (from safetensors or a PyTorch checkpoint).
    @discardableResult
    public func load(stateDict source: HostTensorDict, strict: Bool = true) throws -> LoadReport {
        var tensors: [String: Tensor] = [:]
        for (k, v) in source.items { tensors[k] = try Tensor(host: v) }
        return try load(stateDict: tensors, strict: strict)
    }
}
