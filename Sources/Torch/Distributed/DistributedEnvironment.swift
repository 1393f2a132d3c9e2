import Foundation

/// Where this process sits in a multi-process run, read from the variables launchers set:
/// torchrun's `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`
/// (and `TORCHELASTIC_USE_AGENT_STORE`), or SLURM's `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`,
/// `SLURM_JOB_NODELIST` as mmengine's `init_dist(launcher='slurm')` reads them.
public struct DistributedEnvironment: Equatable, Sendable {
    public enum Launcher: String, Sendable, CaseIterable {
        /// torchrun / torch.distributed.launch, or anything that sets the same variables.
        case torchrun
        /// srun: ranks from SLURM's task variables; the store on the first node of the allocation.
        case slurm
    }

    public var rank: Int
    public var worldSize: Int
    /// The index of this process on its machine: which GPU it uses.
    public var localRank: Int
    public var localWorldSize: Int?
    public var masterAddress: String
    public var masterPort: Int
    public var launcher: Launcher
    /// torchrun's agent serves the store (`TORCHELASTIC_USE_AGENT_STORE=True`): rank 0 connects as a
    /// client like the others instead of serving it.
    public var storeHostedByLauncher: Bool

    /// More than one process: collectives are needed.
    public var isDistributed: Bool { worldSize > 1 }

    public static let defaultPort = 29500

    public init(rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int? = nil, masterAddress: String,
                masterPort: Int, launcher: Launcher = .torchrun, storeHostedByLauncher: Bool = false) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localWorldSize = localWorldSize
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.launcher = launcher
        self.storeHostedByLauncher = storeHostedByLauncher
    }

    /// The environment of this process. With no launcher named, torchrun's variables are used when
    /// `WORLD_SIZE` is set, and nil (a single-process run) otherwise. SLURM's variables are read only
    /// when asked for (`launcher: .slurm`), since a batch script that starts one process sees them too.
    /// Throws naming the variable when one is missing or malformed.
    public static func detect(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                              launcher: Launcher? = nil) throws -> DistributedEnvironment? {
        switch launcher {
        case .none:
            guard environment["WORLD_SIZE"] != nil else { return nil }
            return try torchrun(environment)
        case .torchrun?:
            return try torchrun(environment)
        case .slurm?:
            return try slurm(environment)
        }
    }

    private static func torchrun(_ env: [String: String]) throws -> DistributedEnvironment {
        let world = try integer("WORLD_SIZE", env)
        let rank = try integer("RANK", env)
        let local = try integer("LOCAL_RANK", env, default: rank)
        let localWorld = try env["LOCAL_WORLD_SIZE"].map { _ in try integer("LOCAL_WORLD_SIZE", env) }
        let agentStore = ["true", "1"].contains(env["TORCHELASTIC_USE_AGENT_STORE"]?.lowercased() ?? "")
        let result = DistributedEnvironment(
            rank: rank, worldSize: world, localRank: local, localWorldSize: localWorld,
            masterAddress: try masterAddress(env, fallback: world == 1 ? "127.0.0.1" : nil),
            masterPort: try port(env), launcher: .torchrun, storeHostedByLauncher: agentStore)
        try result.validate()
        return result
    }

    private static func slurm(_ env: [String: String]) throws -> DistributedEnvironment {
        let world = try integer("SLURM_NTASKS", env)
        let rank = try integer("SLURM_PROCID", env)
        let local = try integer("SLURM_LOCALID", env, default: 0)
        let nodes = env["SLURM_STEP_NODELIST"] ?? env["SLURM_JOB_NODELIST"] ?? env["SLURM_NODELIST"]
        let result = DistributedEnvironment(
            rank: rank, worldSize: world, localRank: local, localWorldSize: nil,
            masterAddress: try masterAddress(env, fallback: nodes.flatMap { firstHost(ofNodeList: $0) }),
            masterPort: try port(env), launcher: .slurm, storeHostedByLauncher: false)
        try result.validate()
        return result
    }

    func validate() throws {
        guard worldSize >= 1 else { throw problem("the world size must be at least 1, got \(worldSize)") }
        guard (0..<worldSize).contains(rank) else { throw problem("rank \(rank) is not below the world size \(worldSize)") }
        guard localRank >= 0 else { throw problem("the local rank must not be negative, got \(localRank)") }
        guard (1...65535).contains(masterPort) else { throw problem("master port \(masterPort) is outside 1...65535") }
    }

    private static func integer(_ name: String, _ env: [String: String], default fallback: Int? = nil) throws -> Int {
        guard let text = env[name] else {
            if let fallback { return fallback }
            throw problem("\(name) is not set")
        }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw problem("\(name)=\(text) is not an integer")
        }
        return value
    }

    private static func masterAddress(_ env: [String: String], fallback: String?) throws -> String {
        if let address = env["MASTER_ADDR"], !address.isEmpty { return address }
        if let fallback { return fallback }
        throw problem("MASTER_ADDR is not set")
    }

    private static func port(_ env: [String: String]) throws -> Int {
        env["MASTER_PORT"] == nil ? defaultPort : try integer("MASTER_PORT", env)
    }

    /// The first host of a SLURM node list: "gpu[03-05,09],cpu1" -> "gpu03" (what
    /// `scontrol show hostnames | head -n1` prints).
    public static func firstHost(ofNodeList list: String) -> String? {
        var host = ""
        var inBracket = false
        for ch in list {
            if inBracket {
                if ch == "," || ch == "-" || ch == "]" { break }  // the first number of the first range
                host.append(ch)
            } else if ch == "[" {
                inBracket = true
            } else if ch == "," {
                break
            } else {
                host.append(ch)
            }
        }
        let trimmed = host.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    private func problem(_ message: String) -> TorchError { Self.problem(message) }
    private static func problem(_ message: String) -> TorchError { TorchError("distributed environment", message) }
}
