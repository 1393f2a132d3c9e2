import Foundation
import Torch

/// When and how a run keeps its checkpoints: only the newest periodic checkpoint (plus `best`), but the one before
/// it goes only once the newest has given a finite loss, so a blow-up never leaves just the checkpoint of the
/// weights that caused it; those are set aside as `nonfinite_iter_N`.
final class CheckpointPolicy {
    let dir: URL
    let interval: Int
    let iterations: Int
    private let save: (_ name: String, _ iteration: Int) throws -> TrainingCheckpoint
    /// The newest checkpoint this run saved (or resumed from) and its iteration.
    private(set) var last: URL?
    private(set) var lastIteration: Int
    /// The newest checkpoint whose weights have given a finite loss.
    private(set) var good: URL?

    /// false on the ranks other than 0 of a multi-process run: they keep the bookkeeping but write nothing.
    let writes: Bool

    init(dir: URL, interval: Int, iterations: Int, resumedFrom: TrainingCheckpoint?, start: Int, writes: Bool = true,
         save: @escaping (_ name: String, _ iteration: Int) throws -> TrainingCheckpoint) {
        self.dir = dir
        self.writes = writes
        self.interval = interval
        self.iterations = iterations
        self.save = save
        last = resumedFrom?.folder
        lastIteration = start
    }

    func isDue(_ iteration: Int) -> Bool { iteration % interval == 0 || iteration == iterations }

    /// Saves `iter_<iteration>` (once per iteration).
    @discardableResult
    func saveIteration(_ iteration: Int) throws -> URL {
        if let last, lastIteration == iteration { return last }
        let folder = writes ? try save("iter_\(iteration)", iteration).folder : dir.appendingPathComponent("iter_\(iteration)")
        last = folder
        lastIteration = iteration
        return folder
    }

    func saveBest(_ iteration: Int) throws {
        if writes { _ = try save("best", iteration) }
    }

    /// The weights after `iteration` steps gave a finite loss: their checkpoint is good, older ones can go.
    func lossWasFinite(after iteration: Int) {
        guard let last, lastIteration == iteration else { return }
        good = last
        prune(keeping: last)
    }

    func prune(keeping keep: URL) {
        guard writes else { return }
        let fm = FileManager.default
        for n in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where n.hasPrefix("iter_") && n != keep.lastPathComponent {
            try? fm.removeItem(at: dir.appendingPathComponent(n))
        }
    }

    /// The error for a non-finite loss from the weights after `iteration` steps. Their checkpoint, if any, is set
    /// aside so that the message and `--resume` point at the one before.
    func nonFiniteLoss(_ value: Double, after iteration: Int) -> EngineError {
        let fm = FileManager.default
        var note = ""
        if writes, let bad = last, lastIteration == iteration {
            let aside = dir.appendingPathComponent("nonfinite_" + bad.lastPathComponent)
            try? fm.removeItem(at: aside)
            if (try? fm.moveItem(at: bad, to: aside)) != nil {
                note = " \(bad.lastPathComponent) holds the weights that gave this loss and was moved to \(aside.path)."
            }
        }
        let next = good.map { "The last good checkpoint is \($0.path) (resume with --resume, perhaps with a lower --lr)." }
            ?? "No good checkpoint was saved before it in \(dir.path); start again with a lower --lr."
        return EngineError("loss is not finite (\(value)) at iteration \(iteration + 1); stopped." + note + " " + next)
    }
}
