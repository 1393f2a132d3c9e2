// The parts of optimizer state dicts that AdamW and SGD share: key names, group settings in `meta`, and the
// validation of a snapshot against the optimizer it is loaded into (all problems reported at once).

import Foundation

struct OptimizerStateCodec {
    /// The optimizer's name, stored as `type.<name> = 1` so that loading another optimizer's state fails clearly.
    let type: String
    /// Per-parameter buffer names; a parameter's state holds all of them or none.
    let buffers: [String]
    /// Buffers that are scalars (AdamW's `step`), not shaped like the parameter.
    let scalarBuffers: Set<String>
    /// Per-group hyper-parameter names stored in `meta` besides lr, weight_decay, lr_mult and decay_mult.
    let hyperNames: [String]

    static func key(_ index: Int, _ buffer: String) -> String { "state.\(index).\(buffer)" }
    static func groupKey(_ group: Int, _ name: String) -> String { "param_groups.\(group).\(name)" }

    /// `meta` for `groups`, with each group's resolved hyper-parameters (`hyper(g)[name]`).
    func meta(_ groups: [ParamGroup], hyper: (Int) -> [String: Double]) -> [String: Double] {
        var meta: [String: Double] = ["type.\(type)": 1, "param_groups": Double(groups.count)]
        for (g, group) in groups.enumerated() {
            meta[Self.groupKey(g, "params")] = Double(group.params.count)
            meta[Self.groupKey(g, "lr")] = group.lr
            meta[Self.groupKey(g, "weight_decay")] = group.weightDecay
            meta[Self.groupKey(g, "lr_mult")] = group.lrMult
            meta[Self.groupKey(g, "decay_mult")] = group.decayMult
            for (name, value) in hyper(g) { meta[Self.groupKey(g, name)] = value }
        }
        return meta
    }

    /// Checks a snapshot against `groups` and returns each parameter index's buffers, converted to the
    /// parameter's device (and dtype, except scalar buffers). Throws one error listing every mismatch.
    func decode(tensors: [String: Tensor], meta: [String: Double], groups: [ParamGroup]) throws -> [Int: [String: Tensor]] {
        var problems: [String] = []
        if meta["type.\(type)"] != 1 {
            let other = meta.keys.filter { $0.hasPrefix("type.") }.map { String($0.dropFirst(5)) }.sorted()
            problems.append(other.isEmpty ? "meta has no optimizer type (expected type.\(type))"
                                          : "state was saved by \(other.joined(separator: ", ")), not \(type)")
        }
        if let n = meta["param_groups"], Int(n) == groups.count {
            for (g, group) in groups.enumerated() {
                if let n = meta[Self.groupKey(g, "params")], Int(n) != group.params.count {
                    problems.append("group \(g) has \(Int(n)) parameters in the state, \(group.params.count) in the optimizer")
                }
                for name in ["params", "lr", "weight_decay"] + hyperNames where meta[Self.groupKey(g, name)] == nil {
                    problems.append("meta has no \(Self.groupKey(g, name))")
                }
            }
        } else {
            let saved = meta["param_groups"].map { "\(Int($0))" } ?? "no"
            problems.append("state has \(saved) parameter groups, the optimizer \(groups.count)")
        }
        let params = groups.flatMap { $0.params }
        var found: [Int: [String: Tensor]] = [:]
        var unexpected: [String] = []
        for (key, tensor) in tensors {
            guard let (index, buffer) = Self.parse(key), buffers.contains(buffer), index < params.count else {
                unexpected.append(key)
                continue
            }
            let p = params[index]
            if scalarBuffers.contains(buffer) {
                guard tensor.count == 1 else {
                    problems.append("\(key) should hold one value, has shape \(tensor.shape)")
                    continue
                }
            } else if tensor.shape != p.shape {
                problems.append("\(key) has shape \(tensor.shape), parameter \(index) has shape \(p.shape)")
                continue
            }
            found[index, default: [:]][buffer] = tensor
        }
        if !unexpected.isEmpty { problems.append("unexpected keys: " + unexpected.sorted().joined(separator: ", ")) }
        for (index, bufs) in found.sorted(by: { $0.key < $1.key }) where bufs.count != buffers.count {
            let missing = buffers.filter { bufs[$0] == nil }.map { Self.key(index, $0) }
            problems.append("incomplete state for parameter \(index), missing: " + missing.joined(separator: ", "))
        }
        guard problems.isEmpty else {
            throw TorchError("optimizer.load", "\(type) state does not fit this optimizer:\n- " + problems.joined(separator: "\n- "))
        }
        var out: [Int: [String: Tensor]] = [:]
        for (index, bufs) in found {
            let p = params[index]
            for (buffer, t) in bufs {
                let scalar = scalarBuffers.contains(buffer)
                // A copy, so the optimizer never shares storage with the caller's snapshot.
                out[index, default: [:]][buffer] = try t.checked.detach().checked.to(
                    dtype: scalar ? t.dtype : p.dtype, device: scalar ? t.device : p.device, copy: true)
            }
        }
        return out
    }

    /// Group settings from `meta` (already validated by `decode`): lr, weight decay, multipliers, hyper-parameters.
    func restoreGroups(_ groups: inout [ParamGroup], from meta: [String: Double], hyper: (inout GroupOptions, String, Double) -> Void) {
        for g in groups.indices {
            func value(_ name: String) -> Double? { meta[Self.groupKey(g, name)] }
            if let v = value("lr") { groups[g].lr = v }
            if let v = value("weight_decay") { groups[g].weightDecay = v }
            if let v = value("lr_mult") { groups[g].lrMult = v }
            if let v = value("decay_mult") { groups[g].decayMult = v }
            for name in hyperNames { if let v = value(name) { hyper(&groups[g].options, name, v) } }
        }
    }

    /// "state.12.exp_avg" -> (12, "exp_avg").
    static func parse(_ key: String) -> (Int, String)? {
        let parts = key.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "state", let i = Int(parts[1]), i >= 0 else { return nil }
        return (i, String(parts[2]))
    }
}
