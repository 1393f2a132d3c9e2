import Foundation

/// Maps `count` items on up to `workers` threads, results in item order. Item i is handled by worker
/// i % workers, so work is split the same way every time; the results do not depend on `workers`
/// as long as `transform` depends only on its index.
public func parallelResults<T>(count: Int, workers: Int, _ transform: (Int) throws -> T) -> [Result<T, Error>] {
    let workers = max(1, min(workers, count))
    if workers == 1 { return (0..<count).map { i in Result { try transform(i) } } }
    let slots = ResultSlots<T>(count: count)
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        for i in stride(from: w, to: count, by: workers) {
            slots.set(i, Result { try transform(i) })
        }
    }
    return slots.results()
}

/// `parallelResults`, throwing the error of the lowest failing index (so the error is deterministic too).
func parallelMap<T>(count: Int, workers: Int, _ transform: (Int) throws -> T) throws -> [T] {
    try parallelResults(count: count, workers: workers, transform).map { try $0.get() }
}

/// Result storage written from several threads, one distinct slot per item.
private final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ i: Int, _ result: Result<T, Error>) {
        lock.lock()
        slots[i] = result
        lock.unlock()
    }

    func results() -> [Result<T, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { slot in
            guard let slot else { preconditionFailure("parallelResults: an item was not processed") }
            return slot
        }
    }
}
