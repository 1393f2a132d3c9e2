import CTorch

/// Neural-network functions (`torch.nn.functional`). These forms trap on programmer errors with the
/// op name and libtorch's message; `Functional.Checked` has the throwing twins.
public enum Functional {
    public enum Reduction: Int32, Sendable { case none = 0, mean = 1, sum = 2 }

    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                              dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        Tensor.trap { try Checked.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups) }
    }
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        Tensor.trap { try Checked.linear(x, weight: weight, bias: bias) }
    }
    public static func layerNorm(_ x: Tensor, shape: [Int], weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> Tensor {
        Tensor.trap { try Checked.layerNorm(x, shape: shape, weight: weight, bias: bias, eps: eps) }
    }
    public static func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                 training: Bool, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
        Tensor.trap {
            try Checked.batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                  training: training, momentum: momentum, eps: eps)
        }
    }
    public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> Tensor {
        Tensor.trap { try Checked.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps) }
    }
    /// Exact (erf) GELU unless `tanhApproximation`.
    public static func gelu(_ x: Tensor, tanhApproximation: Bool = false) -> Tensor {
        Tensor.trap { try Checked.gelu(x, tanhApproximation: tanhApproximation) }
    }
    public static func relu(_ x: Tensor) -> Tensor { x.unary(.relu) }
    public static func sigmoid(_ x: Tensor) -> Tensor { x.unary(.sigmoid) }
    public static func silu(_ x: Tensor) -> Tensor { x.unary(.silu) }
    /// x · relu6(x + 3) / 6 (MobileNetV3's `nn.Hardswish`).
    public static func hardswish(_ x: Tensor) -> Tensor { x.unary(.hardswish) }
    public static func softmax(_ x: Tensor, dim: Int) -> Tensor { Tensor.trap { try Checked.softmax(x, dim: dim) } }
    public static func logSoftmax(_ x: Tensor, dim: Int) -> Tensor { Tensor.trap { try Checked.logSoftmax(x, dim: dim) } }
    public static func dropout(_ x: Tensor, p: Double, training: Bool) -> Tensor {
        Tensor.trap { try Checked.dropout(x, p: p, training: training) }
    }
    /// Zeroes whole channels (`nn.Dropout2d`).
    public static func dropout2d(_ x: Tensor, p: Double, training: Bool) -> Tensor {
        Tensor.trap { try Checked.dropout2d(x, p: p, training: training) }
    }
    /// Stochastic depth: drops whole samples of the residual branch and rescales by 1/(1-p) (timm's drop_path).
    public static func dropPath(_ x: Tensor, p: Double, training: Bool) -> Tensor {
        guard training, p > 0 else { return x }
        var maskShape = [x.size(0)]
        maskShape.append(contentsOf: [Int](repeating: 1, count: x.rank - 1))
        let keep = 1 - p
        let mask = (Tensor.rand(maskShape, dtype: x.dtype, device: x.device) + keep).floor()
        return x / keep * mask
    }
    public static func adaptiveAvgPool2d(_ x: Tensor, _ size: (Int, Int)) -> Tensor {
        Tensor.trap { try Checked.adaptiveAvgPool2d(x, size) }
    }
    public static func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                                 ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
        Tensor.trap { try Checked.avgPool2d(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad) }
    }
    public static func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                                 dilation: (Int, Int) = (1, 1), ceilMode: Bool = false) -> Tensor {
        Tensor.trap { try Checked.maxPool2d(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode) }
    }
    public enum InterpolationMode: Sendable { case bilinear(alignCorners: Bool), bicubic(alignCorners: Bool), nearest }
    /// `F.interpolate` to an explicit size (NCHW).
    public static func interpolate(_ x: Tensor, size: (Int, Int), mode: InterpolationMode = .bilinear(alignCorners: false)) -> Tensor {
        Tensor.trap { try Checked.interpolate(x, size: size, mode: mode) }
    }
    /// softmax(q kᵀ · scale) v over the last two dims; `scale` defaults to 1/sqrt(head_dim). `dropout` is applied to the
    /// attention weights (pass 0 outside training).
    public static func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor? = nil, scale: Double? = nil,
                                                 dropout: Double = 0) -> Tensor {
        Tensor.trap { try Checked.scaledDotProductAttention(q, k, v, mask: mask, scale: scale, dropout: dropout) }
    }
    /// Cross-entropy over class dim 1, as `F.cross_entropy`.
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                                    reduction: Reduction = .mean, labelSmoothing: Double = 0) -> Tensor {
        Tensor.trap { try Checked.crossEntropy(logits, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, labelSmoothing: labelSmoothing) }
    }
    /// crossEntropy(logits, target, ignoreIndex:, reduction: .sum) for (pixels, classes) logits and (pixels) class
    /// indices, with a backward that writes softmax - onehot once instead of a zero-filled nll gradient plus a
    /// log_softmax gradient (less time, and two map-sized tensors fewer at a training step's peak).
    public static func pixelCrossEntropySum(_ logits: Tensor, _ target: Tensor, ignoreIndex: Int) -> Tensor {
        Tensor.trap { try Checked.pixelCrossEntropySum(logits, target, ignoreIndex: ignoreIndex) }
    }
    /// pixelCrossEntropySum of (N, C, h, w) logits bilinearly upsampled (align_corners false) to the size of the
    /// (N, H, W) labels. On the CPU one fused kernel that never builds the upsampled (N, C, H, W) map, forward or
    /// backward; elsewhere `interpolate` then `pixelCrossEntropySum`.
    public static func upsampledPixelCrossEntropySum(_ logits: Tensor, _ labels: Tensor, ignoreIndex: Int) -> Tensor {
        Tensor.trap { try Checked.upsampledPixelCrossEntropySum(logits, labels, ignoreIndex: ignoreIndex) }
    }
    public static func oneHot(_ x: Tensor, numClasses: Int) -> Tensor { Tensor.trap { try Checked.oneHot(x, numClasses: numClasses) } }
}

public typealias F = Functional
