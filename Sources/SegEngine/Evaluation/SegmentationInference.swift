import Foundation
import SegData
import SegModels
import Torch

/// How a model is run on one (already resized and normalised) image.
public enum InferenceMode: Sendable, Equatable {
    /// The whole image at once.
    case whole
    /// Overlapping crops (mmseg's slide inference): logits summed over windows and divided by the count.
    case slide(crop: Size2D, stride: Size2D)
}

public enum SegmentationInference {
    /// Class scores for x (1,3,h,w) at the input resolution (slide: averaged over windows), after checking the
    /// input (or window) size against the family's constraints.
    public static func logits(_ model: any SegmentationModel, _ x: Tensor, mode: InferenceMode,
                              constraints: InputConstraints, precision: Precision = .fp32) throws -> Tensor {
        let out = try precision.run(on: x.device) { try logitsUnderPrecision(model, x, mode: mode, constraints: constraints) }
        return out.dtype == .float32 ? out : out.to(.float32)
    }

    static func logitsUnderPrecision(_ model: any SegmentationModel, _ x: Tensor, mode: InferenceMode,
                                     constraints: InputConstraints) throws -> Tensor {
        let input = Size2D(x.size(2), x.size(3))
        switch mode {
        case .whole:
            guard let problem = constraints.problem(with: input, model: model.name) else {
                return try guardedForward { model.predictLogits(x) }
            }
            // A strip thinner than the network's smallest input (a 3000x2 image after the keep-ratio resize, on which
            // the official code fails) runs padded up to the smallest size that does, with 0 after normalisation as
            // slide windows are padded, and the padding is cut off the logits. Other size problems stay errors.
            guard input.height < constraints.minimumSide || input.width < constraints.minimumSide else { throw EngineError(problem) }
            let runnable = constraints.smallestRunnableSize(covering: input)
            let padded = x.pad([0, runnable.width - input.width, 0, runnable.height - input.height])
            let out = try guardedForward { model.predictLogits(padded) }
            return out.slice(2, start: 0, end: input.height).slice(3, start: 0, end: input.width)
        case let .slide(crop, stride):
            guard stride.height <= crop.height, stride.width <= crop.width, stride.height > 0, stride.width > 0 else {
                throw EngineError("slide stride \(stride) must be positive and no larger than the crop \(crop)")
            }
            var window = Size2D(min(crop.height, input.height), min(crop.width, input.width))
            // A family that needs fixed-shape windows (square, multiples of a patch grid) gets an image smaller than the
            // window padded up to it (with 0 after normalisation, as mmseg's data preprocessor pads), the padding cut off
            // the logits again.
            if window != crop, constraints.problem(with: window, model: model.name) != nil,
               constraints.problem(with: crop, model: model.name) == nil {
                let padded = x.pad([0, max(crop.width - input.width, 0), 0, max(crop.height - input.height, 0)])
                window = crop
                let out = try guardedForward { slide(model, padded, crop: crop, stride: stride) }
                return out.slice(2, start: 0, end: input.height).slice(3, start: 0, end: input.width)
            }
            if let problem = constraints.problem(with: window, model: model.name) { throw EngineError("slide window: \(problem)") }
            return try guardedForward { slide(model, x, crop: crop, stride: stride) }
        }
    }

    /// Softmax class probabilities resized to `outputSize` (1,K,H,W): what TTA averages. Memory grows with
    /// K x H x W; plain prediction uses `classMap`, which does not.
    public static func probabilities(_ model: any SegmentationModel, _ x: Tensor, mode: InferenceMode, outputSize: Size2D,
                                     constraints: InputConstraints, precision: Precision = .fp32) throws -> Tensor {
        let l = try logits(model, x, mode: mode, constraints: constraints, precision: precision)
        return try guardedForward { F.softmax(resize(l, to: outputSize), dim: 1) }
    }

    /// Bytes of resized class scores `classMap` holds at once by default: every class of an image up to about
    /// 0.16 megapixels (150 classes), 8 of a 3-megapixel image, 2 of a 12-megapixel photo (whose 150 classes at
    /// once would take 7.2 GB).
    public static let classMapChunkBytes = 96 << 20

    /// How many classes `classMap` resizes at once for `outputSize` by default.
    public static func classMapChunk(for outputSize: Size2D) -> Int {
        max(1, classMapChunkBytes / (4 * max(outputSize.height * outputSize.width, 1)))
    }

    /// Per-pixel class indices (1,H,W, int64) at `outputSize`: the argmax of the logits resized bilinearly to it.
    /// Classes are resized `chunk` at a time (default `classMapChunk(for:)`) with a running maximum, so memory stays
    /// bounded at any output size; ties keep the lowest class, as `argmax` does. The labels equal the one-call
    /// argmax except where two classes' scores lie within float rounding (libtorch may round a plane's
    /// interpolation differently in the last bit depending on the planes it resizes with it).
    public static func classMap(_ model: any SegmentationModel, _ x: Tensor, mode: InferenceMode, outputSize: Size2D,
                                constraints: InputConstraints, precision: Precision = .fp32, chunk: Int? = nil) throws -> Tensor {
        let l = try logits(model, x, mode: mode, constraints: constraints, precision: precision)
        let chunk = chunk ?? classMapChunk(for: outputSize)
        return try guardedForward { tiledArgmax(l, outputSize: outputSize, chunk: chunk) }
    }

    /// argmax over classes of `logits` (1,K,h,w) bilinearly resized to `outputSize`, `chunk` classes at a time.
    /// The running maximum and its class (int16: a quarter of int64's memory) are the only full-size buffers kept;
    /// each chunk adds the same few of the same sizes, so a 12-megapixel photo stays within a few hundred MB.
    static func tiledArgmax(_ logits: Tensor, outputSize: Size2D, chunk: Int) -> Tensor {
        let k = logits.size(1)
        if k <= chunk { return resize(logits, to: outputSize).argmax(dim: 1) }
        var best: Tensor? = nil, index: Tensor? = nil
        for start in stride(from: 0, to: k, by: chunk) {
            let end = min(start + chunk, k)
            let offset = Tensor.scalar(Double(start), dtype: .int16, device: logits.device)
            let resized = resize(logits.slice(1, start: start, end: end), to: outputSize)
            let values: Tensor, classes: Tensor
            if end - start == 1 {
                (values, classes) = (resized.select(1, 0), offset)
            } else {
                let (v, local) = resized.max(dim: 1)
                (values, classes) = (v, local.to(.int16) + offset)
            }
            guard let b = best, let i = index else {
                best = values
                index = classes.rank == 0 ? Tensor.zeros(values.shape, dtype: .int16, device: logits.device) + offset : classes
                continue
            }
            let better = values .> b  // strictly greater: an earlier class keeps a tie
            best = Tensor.where(better, values, b)
            index = Tensor.where(better, classes, i)
        }
        return index!.to(.int64)
    }

    static func resize(_ t: Tensor, to size: Size2D) -> Tensor {
        (t.size(2), t.size(3)) == (size.height, size.width) ? t : F.interpolate(t, size: (size.height, size.width))
    }

    /// mmseg `slide_inference`: windows of `crop` every `stride`, the last one aligned to the border.
    static func slide(_ model: any SegmentationModel, _ x: Tensor, crop: Size2D, stride: Size2D) -> Tensor {
        precondition(stride.height <= crop.height && stride.width <= crop.width, "slide: stride \(stride) > crop \(crop)")
        let (h, w) = (x.size(2), x.size(3))
        let rows = max(h - crop.height + stride.height - 1, 0) / stride.height + 1
        let cols = max(w - crop.width + stride.width - 1, 0) / stride.width + 1
        var sum: Tensor? = nil
        let count = Tensor.zeros([1, 1, h, w], device: x.device)
        for r in 0..<rows {
            for c in 0..<cols {
                let y2 = min(r * stride.height + crop.height, h), x2 = min(c * stride.width + crop.width, w)
                let y1 = max(y2 - crop.height, 0), x1 = max(x2 - crop.width, 0)
                let window = x.slice(2, start: y1, end: y2).slice(3, start: x1, end: x2)
                let out = model.predictLogits(window)  // 1,K,wh,ww
                // Pad the window's logits back into the full canvas.
                let padded = out.pad([x1, w - x2, y1, h - y2])
                sum = sum.map { $0 + padded } ?? padded
                count.slice(2, start: y1, end: y2).slice(3, start: x1, end: x2).add_(Tensor.ones([1, 1, y2 - y1, x2 - x1], device: x.device))
            }
        }
        return sum! / count
    }
}

/// Runs a model call where a failure inside the operator layer must become a thrown error (out of memory on a
/// large image, with the allocator's figures and a hint); the boundary every engine forward pass goes through.
func guardedForward<T>(_ body: () throws -> T) throws -> T {
    try Torch.catchingOutOfMemory(body)
}
