import Torch

/// mmdet's `HungarianAssigner` with Mask2Former's costs, on masks sampled at shared points:
/// weight·(−softmax p(gt class)) + weight·BCE(mask logits, gt mask) + weight·dice(sigmoid, gt), solved exactly.
public struct HungarianMatcher: Sendable {
    public var classWeight: Double = 2
    public var maskWeight: Double = 5
    public var diceWeight: Double = 5
    public var diceEps: Double = 1

    public init() {}

    /// classLogits Q,K+1; maskPoints Q,P (logits); gtLabels G (int64); gtPoints G,P (0/1) -> cost Q,G.
    public func cost(classLogits: Tensor, maskPoints: Tensor, gtLabels: Tensor, gtPoints: Tensor) -> Tensor {
        let classCost = -F.softmax(classLogits, dim: -1).indexSelect(1, gtLabels)
        // Mean BCE of every query mask against every gt mask: Σ_p [bce(x,1)·t + bce(x,0)·(1−t)] / P.
        let positive = F.binaryCrossEntropyWithLogits(maskPoints, Tensor.ones(maskPoints.shape, device: maskPoints.device), reduction: .none)
        let negative = F.binaryCrossEntropyWithLogits(maskPoints, Tensor.zeros(maskPoints.shape, device: maskPoints.device), reduction: .none)
        let bce = (Tensor.einsum("nc,mc->nm", positive, gtPoints) + Tensor.einsum("nc,mc->nm", negative, 1 - gtPoints))
            / Double(maskPoints.size(1))
        // Dice of every pair (naive form).
        let p = F.sigmoid(maskPoints)
        let numerator = Tensor.einsum("nc,mc->nm", p, gtPoints) * 2
        let denominator = p.sum(dim: -1).unsqueeze(1) + gtPoints.sum(dim: -1).unsqueeze(0)
        let dice = 1 - (numerator + diceEps) / (denominator + diceEps)
        return classCost * classWeight + bce * maskWeight + dice * diceWeight
    }

    /// The optimal (query, gt) pairs, sorted by query; every gt is matched when Q >= G.
    public func match(classLogits: Tensor, maskPoints: Tensor, gtLabels: Tensor, gtPoints: Tensor) -> [(query: Int, gt: Int)] {
        let c = Torch.noGrad { cost(classLogits: classLogits, maskPoints: maskPoints, gtLabels: gtLabels, gtPoints: gtPoints) }
        let (q, g) = (c.size(0), c.size(1))
        let values = c.to(dtype: .float32, device: .cpu).contiguous().toArray(Float.self)
        let matrix = (0..<q).map { i in (0..<g).map { Double(values[i * g + $0]) } }
        // The costs are finite for finite logits; a NaN here is a diverged model, which the trainer reports.
        guard let pairs = try? LinearSumAssignment.solve(matrix) else { return [] }
        return pairs.map { (query: $0.row, gt: $0.column) }
    }
}
