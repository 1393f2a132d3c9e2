import Foundation

/// Weight initialisers with PyTorch's semantics (`torch.nn.init`). All run without autograd.
public enum Init {
    /// Fan-in of a Linear ([out, in]) or Conv ([out, in/groups, kh, kw]) weight.
    public static func fanIn(_ t: Tensor) -> Int {
        let s = t.shape
        return s.count < 2 ? max(1, s.first ?? 1) : s.dropFirst().reduce(1, *)
    }

    public static func fanOut(_ t: Tensor) -> Int {
        let s = t.shape
        return s.count < 2 ? max(1, s.first ?? 1) : s[0] * s.dropFirst(2).reduce(1, *)
    }

    public static func constant_(_ t: Tensor, _ value: Double) { Torch.noGrad { t.fill_(value) } }
    public static func zeros_(_ t: Tensor) { constant_(t, 0) }
    public static func ones_(_ t: Tensor) { constant_(t, 1) }
    public static func uniform_(_ t: Tensor, _ lo: Double, _ hi: Double) { Torch.noGrad { t.uniform_(lo, hi) } }
    public static func normal_(_ t: Tensor, mean: Double = 0, std: Double = 1) { Torch.noGrad { t.normal_(mean: mean, std: std) } }

    /// `trunc_normal_(std=...)` truncated at ±2 (absolute, as timm and PyTorch define a, b).
    public static func truncNormal_(_ t: Tensor, std: Double = 0.02, mean: Double = 0, a: Double = -2, b: Double = 2) {
        Torch.noGrad { t.truncNormal_(mean: mean, std: std, a: a, b: b) }
    }

    /// `kaiming_uniform_(a=..., mode='fan_in', nonlinearity='leaky_relu')`.
    public static func kaimingUniform_(_ t: Tensor, a: Double = 0) {
        let gain = (2.0 / (1 + a * a)).squareRoot()
        let bound = 3.0.squareRoot() * gain / Double(fanIn(t)).squareRoot()
        uniform_(t, -bound, bound)
    }

    /// `xavier_uniform_(gain=1)`: U(±sqrt(6 / (fan_in + fan_out))), torch.nn.MultiheadAttention's in_proj init.
    public static func xavierUniform_(_ t: Tensor, gain: Double = 1) {
        let bound = gain * (6.0 / Double(fanIn(t) + fanOut(t))).squareRoot()
        uniform_(t, -bound, bound)
    }

    /// `kaiming_normal_(mode='fan_in', nonlinearity='relu')`: N(0, sqrt(2 / fan_in)) (mmcv's `kaiming_init(mode='fan_in')`).
    public static func kaimingNormalFanIn_(_ t: Tensor) {
        normal_(t, std: (2.0 / Double(fanIn(t))).squareRoot())
    }

    /// `kaiming_normal_(mode='fan_out', nonlinearity='relu')`, the usual conv init in segmentation code.
    public static func kaimingNormalFanOut_(_ t: Tensor) {
        normal_(t, std: (2.0 / Double(fanOut(t))).squareRoot())
    }

    /// `xavier_normal_(gain)`: N(0, gain·√(2 / (fan_in + fan_out))).
    public static func xavierNormal_(_ t: Tensor, gain: Double = 1) {
        normal_(t, std: gain * (2.0 / Double(fanIn(t) + fanOut(t))).squareRoot())
    }

    /// PyTorch's default for Linear/Conv: weight kaiming_uniform(a=√5), bias U(±1/√fan_in).
    public static func pytorchDefault_(weight: Tensor, bias: Tensor?) {
        kaimingUniform_(weight, a: 5.0.squareRoot())
        if let bias {
            let bound = 1 / Double(fanIn(weight)).squareRoot()
            uniform_(bias, -bound, bound)
        }
    }
}
