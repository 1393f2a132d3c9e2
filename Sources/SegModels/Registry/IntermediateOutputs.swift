import Torch

/// Models that can return every intermediate output the official fixtures store
/// (stage outputs / hidden states and logits), for parity checks and `swiftseg forward`.
public protocol IntermediateOutputs {
    func forwardAll(_ x: Tensor) -> [String: Tensor]
}

extension LRFormerSegmentation: IntermediateOutputs {}
extension SegFormerSegmentation: IntermediateOutputs {}
