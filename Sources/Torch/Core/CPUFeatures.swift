import Foundation

/// The x86 instruction-set extensions that decide which CPU kernels libtorch can use, read from the `flags` line of
/// /proc/cpuinfo (Linux). bfloat16 pays off on a CPU only with native bf16 arithmetic (AVX-512-BF16 or AMX); on
/// AVX2-only CPUs libtorch emulates it and bf16 runs slower than float32.
public struct CPUFeatures: Sendable, Equatable {
    public let flags: Set<String>

    public init(flags: Set<String>) { self.flags = flags }

    /// Flags of the first processor in a /proc/cpuinfo text (all cores report the same on the machines we target).
    public init(cpuinfo: String) {
        let line = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }
        let values = line.flatMap { $0.split(separator: ":", maxSplits: 1).last } ?? ""
        flags = Set(values.split(separator: " ").map(String.init))
    }

    /// This machine's features; empty where /proc/cpuinfo cannot be read (macOS, sandboxes).
    public static let current: CPUFeatures = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return CPUFeatures(flags: []) }
        return CPUFeatures(cpuinfo: text)
    }()

    public var hasAVX2: Bool { flags.contains("avx2") }
    public var hasAVX512: Bool { flags.contains("avx512f") }
    public var hasAVX512BF16: Bool { flags.contains("avx512_bf16") }
    public var hasAMX: Bool { flags.contains("amx_bf16") && flags.contains("amx_tile") }
    /// Native bfloat16 arithmetic (AVX-512-BF16 or AMX): where bf16 autocast can beat float32 on the CPU.
    public var hasNativeBFloat16: Bool { hasAVX512BF16 || hasAMX }

    /// "AVX2", "AVX-512", "AVX-512 + BF16", "AVX-512 + BF16 + AMX" or "baseline x86-64"/"unknown".
    public var summary: String {
        if flags.isEmpty { return "unknown" }
        var parts: [String] = []
        if hasAVX512 { parts.append("AVX-512") } else if hasAVX2 { parts.append("AVX2") } else { parts.append("baseline x86-64") }
        if hasAVX512BF16 { parts.append("BF16") }
        if hasAMX { parts.append("AMX") }
        return parts.joined(separator: " + ")
    }

    /// One line for benchmark output: whether bfloat16 can be expected to beat float32 on this CPU.
    public var bfloat16Note: String {
        if flags.isEmpty { return "CPU features unknown: bfloat16 speed on the CPU cannot be predicted" }
        if hasNativeBFloat16 {
            return "CPU: \(summary): native bfloat16 arithmetic, so bf16 autocast can be faster than float32"
        }
        return "CPU: \(summary), no native bfloat16 (needs AVX-512-BF16 or AMX): bf16 on this CPU is emulated and slower than float32"
    }
}
