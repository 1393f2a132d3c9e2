import ArgumentParser
import Foundation
import Torch

/// Answers the three usual libtorch questions at once: which libtorch, where it was loaded from, and
/// whether CUDA works (and if not, why).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Versions, threads and devices.")

    @Flag(name: .long, help: "Also measure the Swift layer's overhead per op against calling the C shim directly.")
    var overhead = false

    func run() throws {
        defer {
            if overhead {
                let r = OpOverhead.measure(iterations: 200_000)
                print(String(format: "op overhead  %.2f us per tiny op through Swift, %.2f us through the C shim directly (+%.2f us)",
                             r.swiftNanosPerOp / 1000, r.rawNanosPerOp / 1000, (r.swiftNanosPerOp - r.rawNanosPerOp) / 1000))
            }
        }
        print("SwiftSeg   \(SwiftSegVersion.string)")
        print("libtorch   \(Torch.version)  (\(loadedLibrary("libtorch_cpu.so") ?? "path unknown"))")
        print("threads    \(Torch.threads)")
        let cuda = Torch.cuda
        print("devices    cpu" + (cuda.isAvailable ? ", " + (0..<cuda.deviceCount).map { "cuda:\($0)" }.joined(separator: ", ") : ""))
        if cuda.isAvailable {
            print("CUDA       available, \(cuda.deviceCount) device(s)")
        } else {
            print("CUDA       unavailable: \(cuda.reason ?? "unknown reason")")
        }
    }

    /// The path a shared library was mapped from, from /proc/self/maps read to its end with read(2). (Read with
    /// `String(contentsOfFile:)`, the line was missing in about one run in three: the file reports no size, and
    /// only its first chunk was read.)
    private func loadedLibrary(_ name: String) -> String? {
        let fd = open("/proc/self/maps", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").lazy.compactMap { line -> String? in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasSuffix("/" + name) else { return nil }
            return String(path)
        }.first
    }
}
