// Per-op overhead of the Swift layer: the same tiny op (add of two 1-element float tensors) through
// `Tensor`'s `+` and through the C shim directly, each result freed at once, so the difference is what the
// Swift wrapper costs (error plumbing, the owning class, its allocation and deinit).

import CTorch
import Dispatch

public enum OpOverhead {
    /// Nanoseconds per op: median of several interleaved runs of `iterations` ops each, after a warm-up.
    public static func measure(iterations: Int) -> (swiftNanosPerOp: Double, rawNanosPerOp: Double) {
        let n = max(1, iterations)
        let a = Tensor([Float(1)]), b = Tensor([Float(2)])

        func swiftRun() -> Double {
            time(n) {
                for _ in 0..<n { _ = a + b }
            }
        }
        func rawRun() -> Double {
            time(n) {
                var out: ts_tensor? = nil
                for _ in 0..<n {
                    if let e = ts_add(a.handle, b.handle, &out) { ts_error_free(e) }
                    ts_free(out)
                }
            }
        }

        _ = swiftRun()  // warm-up: allocator, dispatcher caches, page faults
        _ = rawRun()
        var swift: [Double] = [], raw: [Double] = []
        for _ in 0..<7 {  // interleaved, so drifts in machine load hit both alike
            swift.append(swiftRun())
            raw.append(rawRun())
        }
        return withExtendedLifetime((a, b)) { (median(swift), median(raw)) }
    }

    private static func time(_ n: Int, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
    }

    private static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
