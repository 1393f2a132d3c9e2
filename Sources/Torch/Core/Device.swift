import CTorch

/// Where a tensor lives. CUDA is used only when `Torch.cuda.isAvailable`.
public enum Device: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    var typeCode: Int32 {
        switch self {
        case .cpu: return 0
        case .cuda: return 1
        }
    }

    var index: Int32 {
        switch self {
        case .cpu: return 0
        case .cuda(let i): return Int32(i)
        }
    }

    init(typeCode: Int32, index: Int32) {
        self = typeCode == 1 ? .cuda(Int(index)) : .cpu
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        }
    }

    public var isCUDA: Bool { if case .cuda = self { return true } else { return false } }

    /// Parses `cpu`, `cuda`, `cuda:1`, and checks that the device exists.
    public static func parse(_ text: String) throws -> Device {
        let t = text.lowercased()
        if t == "cpu" { return .cpu }
        guard t.hasPrefix("cuda") else {
            throw TorchError("device", "unknown device '\(text)' (expected cpu, cuda or cuda:N)")
        }
        var index = 0
        if t.count > 4 {
            guard t.dropFirst(4).first == ":", let i = Int(t.dropFirst(5)), i >= 0 else {
                throw TorchError("device", "unknown device '\(text)' (expected cpu, cuda or cuda:N)")
            }
            index = i
        }
        let cuda = Torch.cuda
        guard cuda.isAvailable else {
            throw TorchError("device", "CUDA requested but unavailable: \(cuda.reason ?? "unknown reason")")
        }
        guard index < cuda.deviceCount else {
            throw TorchError("device", "cuda:\(index) requested but only \(cuda.deviceCount) CUDA device(s) exist")
        }
        return .cuda(index)
    }
}
