// Out-of-memory errors from non-throwing code.
//
// Model code uses the trapping operator forms, which cannot throw. Running out of memory is not a programmer
// error, though: it depends on the batch, the crop and the device. So an out-of-memory error inside
// `Torch.catchingOutOfMemory { ... }` does not trap. The trapping form records the error and switches this
// thread into the shim's meta mode: from then on every op runs on shape-only twins of its tensors (no memory,
// no arithmetic, real tensors never written, values read back as zeros, backward does nothing), so the model
// code runs on, cheaply and with the right shapes, to the end of the block, where the recorded error is
// thrown. Outside such a block an out-of-memory error traps as before, with the hint.
//
// Limits: an op that cannot run shape-only (a data-dependent shape, or a custom shim op that reads raw data)
// returns a placeholder tensor of shape [1, 1, 1, 1] (tensor results) or ends the process with the recorded
// error (other results). Work done before the failure stays done (e.g. BatchNorm statistics, gradients
// accumulated by a backward that failed half-way): zero the gradients before retrying.

import CTorch
import Foundation

extension Torch {
    /// Runs `body` and throws the first out-of-memory error raised inside it, whether by a throwing op or by a
    /// trapping one deep in model code, as a `TorchError` of kind `.outOfMemory` with the allocator's figures
    /// and a hint. Other errors propagate unchanged. Nestable; the state is per thread, so `body` must stay on
    /// the calling thread (it is synchronous).
    ///
    ///     let loss = try Torch.catchingOutOfMemory {
    ///         let loss = criterion(model(images), labels)
    ///         loss.backward()
    ///         return loss.item()
    ///     }
    public static func catchingOutOfMemory<R>(_ body: () throws -> R) throws -> R {
        let scope = OutOfMemoryScope.push()
        defer { OutOfMemoryScope.pop(scope) }
        let result = Result { try body() }
        if let recorded = scope.recorded { throw recorded.withAllocatorFigures() }
        switch result {
        case .success(let value): return value
        case .failure(let error as TorchError) where error.kind == .outOfMemory: throw error.withAllocatorFigures()
        case .failure(let error): throw error
        }
    }
}

/// The active `catchingOutOfMemory` blocks of one thread, innermost last.
final class OutOfMemoryScope {
    /// The out-of-memory error a trapping op recorded in this block (the thread is then in meta mode).
    var recorded: TorchError?

    private static let key = "SwiftSeg.Torch.OutOfMemoryScopes"

    private final class Stack { var scopes: [OutOfMemoryScope] = [] }

    private static var stack: Stack {
        let dictionary = Thread.current.threadDictionary
        if let s = dictionary[key] as? Stack { return s }
        let s = Stack()
        dictionary[key] = s
        return s
    }

    static func push() -> OutOfMemoryScope {
        let scope = OutOfMemoryScope()
        stack.scopes.append(scope)
        return scope
    }

    static func pop(_ scope: OutOfMemoryScope) {
        let s = stack
        if let i = s.scopes.lastIndex(where: { $0 === scope }) { s.scopes.remove(at: i) }
        if scope.recorded != nil { ts_meta_mode_exit() }
    }

    /// What a trapping op does with a failure: an out-of-memory error inside a `catchingOutOfMemory` block is
    /// recorded and the op is run again shape-only; any other failure traps with the op name and message.
    static func recover<T>(from error: Error, _ body: () throws -> T) -> T {
        if ts_meta_mode_active() != 0 { return shapeOnlyFallback(error, T.self) }
        guard let torchError = error as? TorchError, torchError.kind == .outOfMemory,
              let scope = stack.scopes.last, scope.recorded == nil else {
            fatalError("Torch: \(error)")
        }
        scope.recorded = torchError
        ts_meta_mode_enter()
        do {
            return try body()
        } catch {
            return shapeOnlyFallback(error, T.self)
        }
    }

    /// An op failed in meta mode (no shape-only kernel): a placeholder where the result type allows one.
    private static func shapeOnlyFallback<T>(_ error: Error, _: T.Type) -> T {
        let placeholder = { () -> Tensor in
            Tensor.trap { try Tensor.Checked.empty([1, 1, 1, 1]) }  // meta mode: no memory
        }
        if let r = () as? T { return r }
        if T.self == Tensor.self { return placeholder() as! T }
        if T.self == [Tensor].self { return [placeholder()] as! T }
        if let r = (values: placeholder(), indices: placeholder()) as? T { return r }
        let recorded = stack.scopes.last?.recorded.map { "\($0)" } ?? "out of memory"
        fatalError("Torch: \(recorded)\n(then, while finishing shape-only: \(error))")
    }
}

extension TorchError {
    /// The same error with the CUDA caching allocator's figures appended, when CUDA is in use.
    func withAllocatorFigures() -> TorchError {
        guard kind == .outOfMemory, Torch.cuda.isAvailable else { return self }
        let figures = (0..<Torch.cuda.deviceCount).compactMap { i -> String? in
            guard let m = try? Torch.cuda.memory(device: i) else { return nil }
            return "cuda:\(i) \(m.summary)"
        }
        guard !figures.isEmpty else { return self }
        return TorchError(operation, message + "\nAllocator: " + figures.joined(separator: "; "), kind: kind)
    }
}
