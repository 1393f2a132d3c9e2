import Foundation
import Torch

#if canImport(Glibc)
import Glibc
#endif

/// `swiftseg train --nproc-per-node N`: starts N worker processes of this program on this machine, as torchrun does,
/// with the standard environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT). The
/// launcher serves the rendezvous store itself, so the workers find each other even if rank 0 dies first. Ctrl-C
/// (or a SIGINT/SIGTERM sent to the launcher) is passed on to every worker, which checkpoint and stop together; when
/// one worker fails, the others are given a short grace period to fail on their own (a dead peer ends their next
/// collective at once) and are then stopped.
enum LocalLauncher {
    nonisolated(unsafe) static var signalled: sig_atomic_t = 0

    /// Runs `arguments` (this program's, without the launcher flags) as `processes` workers; returns the exit status.
    static func run(arguments: [String], processes: Int, gracePeriod: Double = 30) throws -> Int32 {
        let store = try Store.tcp(host: "127.0.0.1", port: 0, isServer: true, timeout: .seconds(60))
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var workers: [Process] = []
        for rank in 0..<processes {
            let p = Process()
            p.executableURL = executable
            p.arguments = arguments
            p.environment = ProcessInfo.processInfo.environment.merging([
                "RANK": "\(rank)", "LOCAL_RANK": "\(rank)", "WORLD_SIZE": "\(processes)", "LOCAL_WORLD_SIZE": "\(processes)",
                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(store.port)", "TORCHELASTIC_USE_AGENT_STORE": "1",
                // Each worker gets its share of the cores (torchrun's default OMP_NUM_THREADS is 1).
                "OMP_NUM_THREADS": ProcessInfo.processInfo.environment["OMP_NUM_THREADS"]
                    ?? "\(max(1, ProcessInfo.processInfo.activeProcessorCount / processes))",
            ]) { _, new in new }
            try p.run()
            workers.append(p)
        }
        signal(SIGINT) { _ in LocalLauncher.signalled = 1 }
        signal(SIGTERM) { _ in LocalLauncher.signalled = 2 }
        // A launcher started with these signals blocked (Foundation's Process passes its caller's mask on) must see them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)

        var forwarded = false
        var firstFailure: (rank: Int, status: Int32)? = nil
        var failureTime: Date? = nil
        var stopSent = false
        while workers.contains(where: \.isRunning) {
            usleep(50_000)
            if signalled != 0 && !forwarded {
                forwarded = true
                for w in workers where w.isRunning { kill(w.processIdentifier, SIGINT) }
            }
            if firstFailure == nil,
               let (rank, w) = workers.enumerated().first(where: { !$0.element.isRunning && $0.element.terminationStatus != 0 }) {
                firstFailure = (rank, w.terminationStatus)
                failureTime = Date()
                FileHandle.standardError.write(Data("[launcher] rank \(rank) exited with status \(w.terminationStatus); the other ranks stop too\n".utf8))
            }
            if let t = failureTime, !stopSent, Date().timeIntervalSince(t) > gracePeriod {
                stopSent = true
                for w in workers where w.isRunning { kill(w.processIdentifier, SIGTERM) }
            }
            if let t = failureTime, Date().timeIntervalSince(t) > gracePeriod + 10 {
                for w in workers where w.isRunning { kill(w.processIdentifier, SIGKILL) }
            }
        }
        if let failure = firstFailure { return failure.status }
        if forwarded { return 130 }
        return workers.map(\.terminationStatus).first { $0 != 0 } ?? 0
    }

    /// This program's arguments without `--nproc-per-node N` (or `--nproc-per-node=N`), plus `extra`.
    static func workerArguments(_ arguments: [String], extra: [String]) -> [String] {
        var out: [String] = []
        var skip = false
        for a in arguments.dropFirst() {
            if skip { skip = false; continue }
            if a == "--nproc-per-node" { skip = true; continue }
            if a.hasPrefix("--nproc-per-node=") { continue }
            out.append(a)
        }
        return out + extra
    }
}
