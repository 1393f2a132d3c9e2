import Foundation
import SegData
import SegModels
import Torch

/// How a model is run on one (already resized and normalised) image.
public enum InferenceMode: Sendable, Equatable {
    /// The whole image at once.
    case whole
    /// Overlapping crops (mmseg's slide inference): logits summed over windows and divided by the count.
    case slide(crop: (h: Int, w: Int), stride: (h: Int, w: Int))

    public static func == (a: InferenceMode, b: InferenceMode) -> Bool {
        switch (a, b) {
        case (.whole, .whole): return true
        case let (.slide(c1, s1), .slide(c2, s2)): return c1 == c2 && s1 == s2
        default: return false
        }
    }
}

public enum SegmentationInference {
    /// Class scores (softmax probabilities) for x (1,3,h,w), resized to `outputSize`.
    public static func probabilities(_ model: any SegmentationModel, _ x: Tensor, mode: InferenceMode,
                                     outputSize: (Int, Int)) -> Tensor {
        let logits: Tensor
        switch mode {
        case .whole:
            logits = model.predictLogits(x)
        case let .slide(crop, stride):
            logits = slide(model, x, crop: crop, stride: stride)
        }
        let resized = (logits.size(2), logits.size(3)) == outputSize ? logits : F.interpolate(logits, size: outputSize)
        return F.softmax(resized, dim: 1)
    }

    /// mmseg `slide_inference`: windows of `crop` every `stride`, the last one aligned to the border.
    static func slide(_ model: any SegmentationModel, _ x: Tensor, crop: (h: Int, w: Int), stride: (h: Int, w: Int)) -> Tensor {
        let (h, w) = (x.size(2), x.size(3))
        let rows = max(h - crop.h + stride.h - 1, 0) / stride.h + 1
        let cols = max(w - crop.w + stride.w - 1, 0) / stride.w + 1
        var sum: Tensor? = nil
        let count = Tensor.zeros([1, 1, h, w], device: x.device)
        for r in 0..<rows {
            for c in 0..<cols {
                let y2 = min(r * stride.h + crop.h, h), x2 = min(c * stride.w + crop.w, w)
                let y1 = max(y2 - crop.h, 0), x1 = max(x2 - crop.w, 0)
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
