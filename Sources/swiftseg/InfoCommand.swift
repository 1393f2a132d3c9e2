import ArgumentParser
import Foundation
import Torch

/// Answers the three usual libtorch questions at once: which libtorch, where it was loaded from, and
/// whether CUDA works (and if not, why).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Versions, threads and devices.")

    func run() throws {
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

    /// The path a shared library was mapped from, read from /proc/self/maps.
    private func loadedLibrary(_ name: String) -> String? {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        return maps.split(separator: "\n").lazy.compactMap { line -> String? in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasSuffix("/" + name) else { return nil }
            return String(path)
        }.first
    }
}
