import Foundation
import TorchIO

/// What a checkpoint load found, key by key.
public struct LoadReport: Sendable, CustomStringConvertible {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var shapeMismatches: [(key: String, expected: [Int], found: [Int])] = []
    public var loaded = 0

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    /// A summary that fits on a screen: counts, the first few keys of each kind and their common prefix.
    public var description: String { summary() }

    public func summary(maxKeys: Int = 5) -> String {
        func listing(_ keys: [String]) -> String {
            let shown = keys.prefix(maxKeys).joined(separator: ", ") + (keys.count > maxKeys ? ", ... (\(keys.count - maxKeys) more)" : "")
            let prefix = Self.commonPrefix(keys)
            return shown + (keys.count > 1 && !prefix.isEmpty ? " [all start with '\(prefix)']" : "")
        }
        var lines = ["loaded \(loaded) tensors"]
        if !missing.isEmpty { lines.append("missing keys (\(missing.count)): " + listing(missing)) }
        if !unexpected.isEmpty { lines.append("unexpected keys (\(unexpected.count)): " + listing(unexpected)) }
        if !shapeMismatches.isEmpty {
            let shown = shapeMismatches.prefix(maxKeys).map { "\($0.key) expects \($0.expected), checkpoint has \($0.found)" }
            lines.append("shape mismatches (\(shapeMismatches.count)): " + shown.joined(separator: "; ")
                + (shapeMismatches.count > maxKeys ? "; ... (\(shapeMismatches.count - maxKeys) more)" : ""))
        }
        return lines.joined(separator: "\n")
    }

    /// The longest dotted prefix ("backbone.block1.") shared by every key; "" when they share none.
    static func commonPrefix(_ keys: [String]) -> String {
        guard var prefix = keys.first.map({ $0.split(separator: ".").dropLast().map(String.init) }) else { return "" }
        for key in keys.dropFirst() {
            let parts = key.split(separator: ".").map(String.init)
            var n = 0
            while n < prefix.count && n < parts.count && prefix[n] == parts[n] { n += 1 }
            prefix = Array(prefix.prefix(n))
        }
        return prefix.isEmpty ? "" : prefix.joined(separator: ".") + "."
    }
}

extension Module {
    /// What `load(stateDict:)` would find for a checkpoint with these keys and shapes, without loading anything.
    public func loadReport(forShapes source: [String: [Int]]) -> LoadReport {
        var report = LoadReport()
        let own = stateDict()
        let ownKeys = Set(own.map { $0.0 })
        for (key, dst) in own {
            guard let shape = source[key] else { report.missing.append(key); continue }
            if shape != dst.shape { report.shapeMismatches.append((key, dst.shape, shape)) } else { report.loaded += 1 }
        }
        report.unexpected = source.keys.filter { !ownKeys.contains($0) }.sorted()
        return report
    }

    /// Copies tensors into this module's parameters and buffers by state_dict key.
    /// With `strict`, any missing key, unexpected key or shape mismatch throws (listing all of them)
    /// and nothing is modified; otherwise the matching entries are loaded and the report says what was not.
    /// A tensor shared by several keys (`sharedKeyGroups`) is written once; the checkpoint's values under
    /// those keys must be equal, else the load throws naming them (whatever `strict` says) and nothing is modified.
    @discardableResult
    public func load(stateDict source: [String: Tensor], strict: Bool = true) throws -> LoadReport {
        var report = LoadReport()
        let own = stateDict()
        let ownKeys = Set(own.map { $0.0 })
        // One entry per destination tensor: the first key found for it, and the other keys that name it.
        var plan: [(dst: Tensor, key: String, src: Tensor, aliases: [(String, Tensor)])] = []
        var planIndex: [ObjectIdentifier: Int] = [:]
        for (key, dst) in own {
            guard let src = source[key] else { report.missing.append(key); continue }
            guard src.shape == dst.shape else {
                report.shapeMismatches.append((key, dst.shape, src.shape))
                continue
            }
            report.loaded += 1
            if let i = planIndex[ObjectIdentifier(dst)] {
                plan[i].aliases.append((key, src))
            } else {
                planIndex[ObjectIdentifier(dst)] = plan.count
                plan.append((dst, key, src, []))
            }
        }
        report.unexpected = source.keys.filter { !ownKeys.contains($0) }.sorted()
        if strict && !report.isClean {
            throw TorchError("load_state_dict", "checkpoint does not match the model:\n\(report.summary())")
        }
        let disagreeing = try plan.compactMap { entry -> String? in
            let differ = try entry.aliases.filter { try !Self.sameValues(entry.src, $0.1, as: entry.dst.dtype) }.map(\.0)
            return differ.isEmpty ? nil : "\(entry.key) vs \(differ.joined(separator: ", "))"
        }
        if !disagreeing.isEmpty {
            throw TorchError("load_state_dict", "checkpoint keys that name one shared tensor hold different values "
                + "(\(disagreeing.count) groups): " + disagreeing.joined(separator: "; "))
        }
        removeInferenceOptimization()  // packed weights hold the old values
        try Torch.noGrad {
            for entry in plan {
                try entry.dst.checked.copy_(entry.src.to(dtype: entry.dst.dtype, device: entry.dst.device))
            }
        }
        return report
    }

    /// Equal elements once converted to `dtype`, the values a load would write (NaN never equals itself).
    private static func sameValues(_ a: Tensor, _ b: Tensor, as dtype: DType) throws -> Bool {
        let x = try a.checked.to(dtype: dtype), y = try b.checked.to(dtype: dtype, device: a.device)
        return try x.checked.compare(.ne, y).checked.sum().checked.itemInt() == 0
    }

    /// Loads host tensors (from safetensors or a PyTorch checkpoint).
    @discardableResult
    public func load(stateDict source: HostTensorDict, strict: Bool = true) throws -> LoadReport {
        var tensors: [String: Tensor] = [:]
        for (k, v) in source.items { tensors[k] = try Tensor(host: v) }
        return try load(stateDict: tensors, strict: strict)
    }
}
