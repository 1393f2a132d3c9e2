import Foundation

/// Runs `produce(step)` for step 0, 1, 2, ... on a background thread, keeping up to `depth` results
/// ready ahead of the consumer. Production stops when `produce` returns nil (end of data), throws
/// (the error is handed to the consumer in order), or the prefetcher is stopped.
public final class Prefetcher<Element>: @unchecked Sendable {
    private let queue: BoundedQueue<Result<Element, Error>>
    private var failure: Error?

    public init(depth: Int, name: String, produce: @escaping (Int) throws -> Element?) {
        let queue = BoundedQueue<Result<Element, Error>>(capacity: depth)
        self.queue = queue
        // The thread holds the queue and the closure, never `self`, so dropping the owner stops it.
        let thread = Thread {
            var step = 0
            while !queue.isClosed {
                do {
                    guard let item = try produce(step) else { break }
                    if !queue.push(.success(item)) { return }
                } catch {
                    queue.push(.failure(error))
                    break
                }
                step += 1
            }
            queue.close()
        }
        thread.name = name
        thread.start()
    }

    /// The next result in order; nil at the end of data. A production error is thrown here, and
    /// again on every later call.
    public func next() throws -> Element? {
        if let failure { throw failure }
        switch queue.pop() {
        case .success(let item):
            return item
        case .failure(let error):
            failure = error
            throw error
        case nil:
            return nil
        }
    }

    public func stop() {
        queue.close()
    }

    deinit {
        queue.close()
    }
}
