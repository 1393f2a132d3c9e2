// Per-parameter lr and weight-decay multipliers chosen from parameter names, as mmengine's
// `DefaultOptimWrapperConstructor.add_params` does with `paramwise_cfg.custom_keys` (pure string logic).
//
// mmengine's rule: keys sorted by length, longest first, alphabetically among equal lengths
// (`sorted(sorted(keys), key=len, reverse=True)`, a stable sort); the first key that is a substring of
// `f'{prefix}.{name}'` wins and every other rule is skipped; no match leaves (1, 1). A consequence the
// recipes rely on: with {head: lr x10, norm: decay 0}, `decode_head.*.norm1.weight` matches `head` first and
// so keeps its weight decay.

/// The multipliers of one `custom_keys` entry. A missing entry means 1, as mmengine's `.get('lr_mult', 1.)`.
public struct ParamRule: Sendable, Hashable {
    public var lrMult: Double
    public var decayMult: Double

    public init(lrMult: Double = 1, decayMult: Double = 1) {
        self.lrMult = lrMult
        self.decayMult = decayMult
    }

    /// No change: what a parameter matching no key gets.
    public static let identity = ParamRule()
}

/// One parameter's outcome: the key that matched (nil when none) and its multipliers.
public struct ParamRuleMatch: Sendable, Hashable {
    public var key: String?
    public var rule: ParamRule
}

/// Parameters sharing a matched key, hence the same multipliers: one optimizer param group.
public struct ParamRuleGroup: Sendable, Hashable {
    public var key: String?
    public var rule: ParamRule
    public var names: [String]
}

public struct ParamGroupRules: Sendable {
    public let customKeys: [String: ParamRule]
    /// The keys in the order mmengine tries them.
    public let orderedKeys: [String]

    public init(customKeys: [String: ParamRule]) {
        self.customKeys = customKeys
        // Python compares and measures strings by code point; do the same rather than by Character.
        orderedKeys = customKeys.keys.sorted { a, b in
            let la = a.unicodeScalars.count, lb = b.unicodeScalars.count
            if la != lb { return la > lb }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
        }
    }

    /// The first key (in `orderedKeys`) contained in the parameter's full name, and its multipliers.
    public func match(_ name: String) -> ParamRuleMatch {
        // mmengine tests f'{prefix}.{name}': a top-level parameter (empty module prefix) is seen as ".name".
        let haystack = Array((name.contains(".") ? name : "." + name).unicodeScalars)
        for key in orderedKeys where Self.contains(haystack, Array(key.unicodeScalars)) {
            return ParamRuleMatch(key: key, rule: customKeys[key]!)
        }
        return ParamRuleMatch(key: nil, rule: .identity)
    }

    /// The multipliers of one parameter.
    public func rule(for name: String) -> ParamRule { match(name).rule }

    /// The multipliers of each name, in order.
    public func rules(for names: [String]) -> [ParamRule] { names.map(rule(for:)) }

    /// Names grouped by matched key, groups in order of first appearance, names kept in their order.
    public func groups(for names: [String]) -> [ParamRuleGroup] {
        var groups: [ParamRuleGroup] = []
        var index: [String?: Int] = [:]
        for name in names {
            let m = match(name)
            if let g = index[m.key] {
                groups[g].names.append(name)
            } else {
                index[m.key] = groups.count
                groups.append(ParamRuleGroup(key: m.key, rule: m.rule, names: [name]))
            }
        }
        return groups
    }

    /// Python's `needle in haystack` on code points (an empty key matches everything, as in Python).
    static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        if needle.isEmpty { return true }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
