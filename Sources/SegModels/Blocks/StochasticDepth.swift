/// Per-block drop-path rates rising linearly from 0 to `rate` over all blocks of all stages
/// (`torch.linspace(0, rate, sum(depths))` in timm, mmseg and transformers), split per stage.
public func stochasticDepthRates(_ rate: Double, depths: [Int]) -> [[Double]] {
    let total = depths.reduce(0, +)
    let rates = (0..<total).map { total > 1 ? rate * Double($0) / Double(total - 1) : 0 }
    var cursor = 0
    return depths.map { depth in
        defer { cursor += depth }
        return Array(rates[cursor..<cursor + depth])
    }
}
