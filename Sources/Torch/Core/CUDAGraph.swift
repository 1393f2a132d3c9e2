// CUDA graphs (`torch.cuda.CUDAGraph`): a captured sequence of kernels replayed with one launch, which removes
// the per-op CPU overhead that dominates small-batch inference. libtorch_cuda is reached at run time through the
// shim (no link-time dependency); without CUDA every entry point throws a `.device` error.
//
// A graph replays on the memory it was captured with: inputs go in by copying into the tensors used during
// capture, outputs come out in the tensors made during capture, and shapes can never change.

import CTorch
import TorchIO

public final class CUDAGraph {
    let handle: ts_cuda_graph
    public let device: Device
    public private(set) var isCaptured = false

    public init(device: Device) throws {
        guard case .cuda(let index) = device else {
            throw TorchError("cuda_graph", "CUDA graphs need a CUDA device, got \(device)", kind: .device)
        }
        let cuda = Torch.cuda
        guard cuda.isAvailable else { throw cuda.unavailable("cuda_graph") }
        var out: ts_cuda_graph? = nil
        try Tensor.check("cuda_graph", ts_cuda_graph_new(Int32(index), &out))
        handle = out!
        self.device = device
    }

    deinit { ts_cuda_graph_free(handle) }

    /// Runs `body` `warmup` times on the graph's own stream (lazy initialisation, cuBLAS workspaces and cuDNN
    /// autotuning must happen before capture), then records one more run into the graph. Whatever `body` keeps
    /// from its recorded run (its output tensors) is what each `replay()` refreshes. `body` must not sync with
    /// the host (no `item()`, no host copies) and must not use autograd: run it in `Torch.inferenceMode`.
    public func capture(warmup: Int = 3, _ body: () throws -> Void) throws {
        precondition(!isCaptured, "CUDAGraph: already captured")
        try Tensor.check("cuda_graph", ts_cuda_graph_side_stream(handle, 1))
        defer { if let e = ts_cuda_graph_side_stream(handle, 0) { ts_error_free(e) } }
        for _ in 0..<warmup { try body() }
        try Tensor.check("cuda_graph.capture_begin", ts_cuda_graph_capture_begin(handle))
        do {
            try body()
        } catch {
            if let e = ts_cuda_graph_capture_end(handle) { ts_error_free(e) }  // leave capture mode before reporting
            throw error
        }
        try Tensor.check("cuda_graph.capture_end", ts_cuda_graph_capture_end(handle))
        isCaptured = true
    }

    /// Runs the recorded kernels again, on the current stream.
    public func replay() throws {
        precondition(isCaptured, "CUDAGraph: replay before capture")
        try Tensor.check("cuda_graph.replay", ts_cuda_graph_replay(handle))
    }
}

/// A fixed-shape inference function replayed through a CUDA graph (`torch.cuda.make_graphed_callables` for
/// inference): `let f = try GraphedFunction(example: x) { model.logits($0) }`, then `try f(batch)`.
public final class GraphedFunction {
    public let inputShape: [Int]
    public let inputDType: DType
    public let device: Device
    let graph: CUDAGraph
    let staticInput: Tensor
    let staticOutput: Tensor

    /// Captures `function` applied to a tensor shaped like `example` (on a CUDA device), in inference mode.
    public init(example: Tensor, warmup: Int = 3, _ function: (Tensor) -> Tensor) throws {
        device = example.device
        inputShape = example.shape
        inputDType = example.dtype
        let graph = try CUDAGraph(device: example.device)
        let input = try example.checked.clone()
        var output: Tensor? = nil
        try Torch.inferenceMode {
            try graph.capture(warmup: warmup) { output = function(input) }
        }
        self.graph = graph
        staticInput = input
        staticOutput = output!
    }

    /// Copies `input` into the graph's input, replays, and returns the graph's output tensor. The same tensor
    /// comes back from every call and is overwritten by the next one: clone it to keep it.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.shape == inputShape, input.dtype == inputDType else {
            throw TorchError("cuda_graph", "the graph was captured for \(inputShape) \(inputDType), got \(input.shape) \(input.dtype)",
                             kind: .value)
        }
        try Torch.inferenceMode {
            try staticInput.checked.copy_(input)
            try graph.replay()
        }
        return staticOutput
    }
}
