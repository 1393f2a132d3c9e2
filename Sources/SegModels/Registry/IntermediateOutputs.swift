import Torch

/// Models that can return every intermediate output the official fixtures store
/// (stage outputs / hidden states and logits), for parity checks and `swiftseg forward`.
public protocol IntermediateOutputs {
    func forwardAll(_ x: Tensor) -> [String: Tensor]
}

/// The encoder-decoder fixtures' layout: `stage1`...`stageN` (encoder outputs) and `logits`.
func stageOutputs(_ features: [Tensor], logits: Tensor) -> [String: Tensor] {
    var out = ["logits": logits]
    for (i, t) in features.enumerated() { out["stage\(i + 1)"] = t }
    return out
}

extension LRFormerSegmentation: IntermediateOutputs {}
extension SegFormerSegmentation: IntermediateOutputs {}
