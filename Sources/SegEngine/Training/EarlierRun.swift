import Foundation

/// What an earlier run left in a work dir. A new run (not a resume) there would prune its checkpoints, replace its
/// `best` and start its log and config afresh, so it is refused unless the caller asks for the replacement.
enum EarlierRun {
    /// The earlier run's files (relative paths: checkpoints, log), newest checkpoint first; empty when there is none.
    static func files(in workDir: URL) -> [String] {
        let fm = FileManager.default
        let checkpoints = ((try? fm.contentsOfDirectory(atPath: workDir.appendingPathComponent("checkpoints").path)) ?? [])
            .filter(isCheckpointName)
            .sorted { (iteration(of: $0) ?? -1) > (iteration(of: $1) ?? -1) }
            .map { "checkpoints/" + $0 }
        let log = fm.fileExists(atPath: workDir.appendingPathComponent("log.jsonl").path) ? ["log.jsonl"] : []
        return checkpoints + log
    }

    /// Refuses a new run in a work dir holding an earlier one, or (`replace`) removes that run's checkpoints first, so
    /// that none of them is mistaken for this run's.
    static func clear(_ workDir: URL, replace: Bool) throws {
        let found = files(in: workDir)
        guard !found.isEmpty else { return }
        guard replace else {
            let listed = found.prefix(4).joined(separator: ", ") + (found.count > 4 ? ", ..." : "")
            throw EngineError("\(workDir.path) holds an earlier run (\(listed)): --resume continues it; a new run there would "
                + "replace its checkpoints and log, so give another --work-dir, or --overwrite to replace it")
        }
        for name in found where name.hasPrefix("checkpoints/") {
            do {
                try FileManager.default.removeItem(at: workDir.appendingPathComponent(name))
            } catch {
                throw EngineError("cannot remove the earlier run's \(name) in \(workDir.path): \(error.localizedDescription)")
            }
        }
    }

    /// A resume continues the model the newest checkpoint trained; another model would only fail on keys and shapes.
    static func checkResumable(_ workDir: URL, model: String) throws {
        guard let newest = TrainingCheckpoint.latest(in: workDir.appendingPathComponent("checkpoints")),
              let trained = newest.trainedModel, trained != model else { return }
        throw EngineError("--resume: \(newest.folder.path) trained \(trained), not \(model): resume with --model \(trained) "
            + "(or --config \(workDir.appendingPathComponent("config.json").path)), or train \(model) in another --work-dir")
    }

    static func isCheckpointName(_ name: String) -> Bool {
        name == "best" || iteration(of: name) != nil
    }

    /// N of `iter_N` and `nonfinite_iter_N`.
    static func iteration(of name: String) -> Int? {
        let stem = name.hasPrefix("nonfinite_") ? String(name.dropFirst("nonfinite_".count)) : name
        return stem.hasPrefix("iter_") ? Int(stem.dropFirst(5)) : nil
    }
}
