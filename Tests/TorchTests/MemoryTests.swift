import Foundation
import Testing
@testable import Torch

#if os(Linux)
/// glibc's `malloc_trim` (declared in <malloc.h>, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Every `Tensor` frees its libtorch handle when dropped: creating and dropping a million small tensors
/// leaves the resident set flat.
@Suite("Memory")
struct MemoryTests {
    /// VmRSS from /proc/self/status, in bytes (nil where /proc is absent). Freed heap is first handed back to
    /// the system, so that memory other tests used and released does not count.
    static func residentBytes() -> Int? {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first
            return kb.map { $0 * 1024 }
        }
        return nil
    }

    /// Resident-set growth over `body`, after a warm-up run (allocator pools, dispatcher caches).
    /// Other suites run in parallel and may grow the process meanwhile, so the smallest of up to five tries
    /// counts: a real leak grows every try (leaking one tensor in four grows a try by about 80 MB).
    func growth(_ body: () -> Void) -> Int? {
        body()
        var smallest = Int.max
        for _ in 0..<5 {
            guard let before = Self.residentBytes() else { return nil }
            body()
            guard let after = Self.residentBytes() else { return nil }
            smallest = min(smallest, after - before)
            if smallest < 4 << 20 { break }
        }
        return smallest
    }

    @Test(.enabled(if: MemoryTests.residentBytes() != nil, "needs /proc/self/status"))
    func millionSmallTensorsLeaveMemoryFlat() {
        var sink = 0.0
        let one = Tensor.ones([4])
        let grown = growth {
            for i in 0..<500_000 {
                // Two tensors per iteration, one made by a factory and one by an op: a million in all.
                let t = Tensor.full([4], Double(i & 7))
                let u = t + one
                if i & 0xFFFF == 0 { sink += u.sum().item() }
            }
        }
        #expect(sink > 0)
        #expect(grown! < 8 << 20, "resident memory grew by \(grown! >> 10) KiB over a million tensors")
    }

    @Test(.enabled(if: MemoryTests.residentBytes() != nil, "needs /proc/self/status"))
    func autogradGraphsAreFreed() {
        let w = Tensor.ones([8])
        w.requiresGrad = true
        let grown = growth {
            for _ in 0..<50_000 {
                ((w * 2).exp().sum()).backward()
                w.zeroGrad()
            }
        }
        #expect(grown! < 8 << 20, "resident memory grew by \(grown! >> 10) KiB over 50k backward passes")
    }
}
