// Peak-memory measurement. On the CPU the only process-level figure is the resident-set high-water mark
// (VmHWM), which is process-wide: other threads' memory counts too. Linux lets a process reset it to the
// current RSS (`echo 5 > /proc/self/clear_refs`, Linux >= 4.0); where that is refused, the figure is the
// rise of the high-water mark over its value before the run, a lower bound.

import Foundation
import CTorch
import Torch

public enum MemoryProbe {
    /// How a run's peak memory was obtained.
    public enum Method: String, Sendable, Codable {
        /// Peak RSS after a high-water-mark reset, minus the RSS at the reset.
        case rssPeakAfterReset = "peak RSS increase"
        /// Rise of the process's high-water mark (reset refused): a lower bound.
        case rssHighWaterRise = "RSS high-water rise (lower bound)"
        /// The CUDA caching allocator's peak.
        case cudaPeak = "CUDA peak allocated"
        case unavailable = "n/a"
    }

    /// A measurement in progress: start it before the work, finish it after.
    public struct Window {
        let device: Device
        let method: Method
        let baselineBytes: Int
    }

    public static func start(device: Device) -> Window {
        if case .cuda(let i) = device {
            _ = ts_cuda_reset_peak_memory(Int32(i)).map { ts_error_free($0) }
            return Window(device: device, method: ts_cuda_peak_memory(Int32(i)) >= 0 ? .cudaPeak : .unavailable, baselineBytes: 0)
        }
        trimHeap()
        if resetHighWaterMark(), let rss = status("VmRSS") {
            return Window(device: device, method: .rssPeakAfterReset, baselineBytes: rss)
        }
        if let hwm = status("VmHWM") { return Window(device: device, method: .rssHighWaterRise, baselineBytes: hwm) }
        return Window(device: device, method: .unavailable, baselineBytes: 0)
    }

    /// Peak bytes used since `start`, or nil where the platform cannot say (CUDA peak unknown, no /proc).
    public static func finish(_ window: Window) -> Int? {
        switch window.method {
        case .cudaPeak:
            guard case .cuda(let i) = window.device else { return nil }
            let peak = ts_cuda_peak_memory(Int32(i))
            return peak >= 0 ? Int(peak) : nil
        case .rssPeakAfterReset, .rssHighWaterRise:
            return status("VmHWM").map { max(0, $0 - window.baselineBytes) }
        case .unavailable:
            return nil
        }
    }

    /// Peak bytes of this process so far: CUDA's peak allocated on a GPU, the resident set's high-water mark on the
    /// CPU (what `train` logs each line); nil where the platform cannot say.
    public static func processPeak(device: Device) -> Int? {
        if case .cuda(let i) = device {
            let peak = ts_cuda_peak_memory(Int32(i))
            return peak >= 0 ? Int(peak) : nil
        }
        return status("VmHWM")
    }

    /// A `/proc/self/status` field in bytes (the file gives kB).
    static func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let digits = line.dropFirst(field.count + 1).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    /// glibc's `malloc_trim(0)`: returns freed heap to the system so that memory kept from earlier runs
    /// does not absorb this run's allocations. Looked up at run time (malloc.h is not in Swift's Glibc module).
    static func trimHeap() {
        #if os(Linux)
        typealias Trim = @convention(c) (Int) -> Int32
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }

    static func resetHighWaterMark() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }
}
