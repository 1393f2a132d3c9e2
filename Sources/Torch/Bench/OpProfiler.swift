// Where the time of a forward or training step goes: every libtorch operator (and, in backward, every autograd
// node) timed through libtorch's RecordFunction callbacks while `OpProfiler.record` runs.

import CTorch
import Foundation

/// Per-operator figures of one profiled run.
public struct OpProfile: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let calls: Int
        /// Nanoseconds inside the operator, including the operators it called.
        public let totalNanos: Int
        /// Nanoseconds inside the operator itself.
        public let selfNanos: Int
        /// Nanoseconds of the calls made from outside libtorch (by the Swift layer); these do not nest, so they add up.
        public let topNanos: Int
        public let topCalls: Int
    }

    public let entries: [Entry]
    /// Wall time of the profiled body.
    public let wallNanos: Int

    /// Time outside any libtorch operator: the Swift layer, the allocator outside ops, the profiler's own cost.
    public var outsideNanos: Int { wallNanos - entries.reduce(0) { $0 + $1.topNanos } }

    /// A table of the operators with the largest self time, per run when `runs` > 1.
    public func table(top: Int = 25, runs: Int = 1) -> String {
        let r = Double(max(1, runs))
        func ms(_ ns: Int) -> String { String(format: "%.2f", Double(ns) / 1e6 / r) }
        func pct(_ ns: Int) -> String { String(format: "%.1f%%", 100 * Double(ns) / Double(max(1, wallNanos))) }
        var lines = ["| op | calls | self ms | self share | total ms |", "| --- | ---: | ---: | ---: | ---: |"]
        for e in entries.sorted(by: { $0.selfNanos > $1.selfNanos }).prefix(top) {
            lines.append("| \(e.name) | \(Int((Double(e.calls) / r).rounded())) | \(ms(e.selfNanos)) | \(pct(e.selfNanos)) | \(ms(e.totalNanos)) |")
        }
        lines.append("| (outside libtorch ops) | | \(ms(outsideNanos)) | \(pct(outsideNanos)) | |")
        lines.append("| **wall** | | **\(ms(wallNanos))** | 100% | |")
        return lines.joined(separator: "\n")
    }
}

public enum OpProfiler {
    /// Runs `body` with every operator of this thread timed (~1 µs per operator). With `shapes`, operators are
    /// keyed by name and input sizes ("aten::conv2d [1,48,128,128]cl [384,48,1,1]", cl = channels-last).
    public static func record<R>(shapes: Bool = false, _ body: () throws -> R) throws -> (R, OpProfile) {
        try Tensor.check("profiler_start", ts_profiler_start(shapes ? 1 : 0))
        let start = DispatchTime.now().uptimeNanoseconds
        let result: R
        do {
            result = try body()
        } catch {
            var text: UnsafeMutablePointer<CChar>? = nil
            _ = ts_profiler_stop(&text).map { ts_error_free($0) }
            if let text { ts_string_free(text) }
            throw error
        }
        let wall = Int(DispatchTime.now().uptimeNanoseconds - start)
        var text: UnsafeMutablePointer<CChar>? = nil
        try Tensor.check("profiler_stop", ts_profiler_stop(&text))
        defer { ts_string_free(text) }
        let entries = String(cString: text!).split(separator: "\n").compactMap { line -> OpProfile.Entry? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 6, let c = Int(f[1]), let t = Int(f[2]), let s = Int(f[3]), let tp = Int(f[4]), let tc = Int(f[5]) else { return nil }
            return OpProfile.Entry(name: String(f[0]), calls: c, totalNanos: t, selfNanos: s, topNanos: tp, topCalls: tc)
        }
        return (result, OpProfile(entries: entries, wallNanos: wall))
    }
}
