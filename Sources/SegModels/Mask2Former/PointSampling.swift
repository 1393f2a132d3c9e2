import Foundation
import Torch

/// Where the point sampler's uniform [0, 1) numbers come from: PyTorch's generator in training, the stored draws
/// of a fixture when a test replays the official run.
public protocol UniformSource: AnyObject, Sendable {
    func uniform(_ shape: [Int], device: Device) -> Tensor
}

/// `torch.rand` on the global generator (seeded per iteration by the trainer).
public final class TorchUniformSource: UniformSource {
    public init() {}
    public func uniform(_ shape: [Int], device: Device) -> Tensor { Tensor.rand(shape, device: device) }
}

/// Returns stored draws in order; a draw of another shape than the next stored one is a programmer error.
public final class ReplayedUniformSource: UniformSource, @unchecked Sendable {
    let draws: [Tensor]
    private let lock = NSLock()
    private var next = 0

    public init(_ draws: [Tensor]) { self.draws = draws }

    /// Draws not yet used.
    public var remaining: Int { lock.withLock { draws.count - next } }

    public func uniform(_ shape: [Int], device: Device) -> Tensor {
        lock.withLock {
            precondition(next < draws.count, "replay: draw \(next) of shape \(shape) asked, only \(draws.count) stored")
            let d = draws[next]
            precondition(d.shape == shape, "replay: draw \(next) is \(d.shape), the sampler asked for \(shape)")
            next += 1
            return d.to(device)
        }
    }
}

public enum PointSampling {
    /// mmcv's `point_sample`: input N,C,H,W at points N,P,2 ((x, y) in [0, 1]) -> N,C,P (bilinear, zero outside,
    /// align_corners false), in the points' precision.
    public static func sample(_ input: Tensor, at points: Tensor) -> Tensor {
        F.gridSample(input.to(points.dtype), (points * 2 - 1).unsqueeze(2)).squeeze(3)
    }

    /// mmdet's `get_uncertain_point_coords_with_randomness` (PointRend): `oversample`·P uniform points, keep the
    /// `importance`·P whose logit is closest to 0, fill up with fresh uniform points. maskLogits N,1,h,w -> N,P,2.
    public static func uncertainPoints(_ maskLogits: Tensor, count: Int, oversample: Double, importance: Double,
                                       random: UniformSource) -> Tensor {
        let n = maskLogits.size(0)
        let sampled = Int(Double(count) * oversample)
        let candidates = random.uniform([n, sampled, 2], device: maskLogits.device)
        let uncertainty = -sample(maskLogits, at: candidates).abs()  // N,1,S
        let important = Int(importance * Double(count))
        let index = uncertainty.select(1, 0).topk(important, dim: 1).indices  // N,k
        var points = candidates.gather(1, index.unsqueeze(-1).expand([n, important, 2]))
        if count > important {
            points = Tensor.cat([points, random.uniform([n, count - important, 2], device: maskLogits.device)], dim: 1)
        }
        return points
    }
}
