import CTorch

extension Functional {
    /// Throwing forms of the neural-network functions; each reports its operator to an active `OpRecorder`.
    public enum Checked {
        private static func pair(_ p: (Int, Int)) -> [Int] { [p.0, p.1] }

        public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                                  dilation: (Int, Int), groups: Int) throws -> Tensor {
            let s = pair(stride).map { Int64($0) }, p = pair(padding).map { Int64($0) }, d = pair(dilation).map { Int64($0) }
            let out = try Tensor.make("conv2d") { ts_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups), $0) }
            OpRecorder.note("conv2d", [x, weight], out, ["groups": groups, "bias": bias == nil ? 0 : 1])
            return out
        }
        public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
            let out = try Tensor.make("linear") { ts_linear(x.handle, weight.handle, bias?.handle, $0) }
            OpRecorder.note("linear", [x, weight], out, ["bias": bias == nil ? 0 : 1])
            return out
        }
        public static func layerNorm(_ x: Tensor, shape: [Int], weight: Tensor?, bias: Tensor?, eps: Double) throws -> Tensor {
            let out = try withInt64s(shape) { s, n in
                try Tensor.make("layer_norm") { ts_layer_norm(x.handle, s, n, weight?.handle, bias?.handle, eps, $0) }
            }
            OpRecorder.note("layer_norm", [x], out, ["affine": weight == nil ? 0 : 1])
            return out
        }
        public static func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                     training: Bool, momentum: Double, eps: Double) throws -> Tensor {
            let out = try Tensor.make("batch_norm") {
                ts_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle, training ? 1 : 0, momentum, eps, $0)
            }
            OpRecorder.note("batch_norm", [x], out, ["affine": weight == nil ? 0 : 1])
            return out
        }
        public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Double) throws -> Tensor {
            let out = try Tensor.make("group_norm") { ts_group_norm(x.handle, Int64(groups), weight?.handle, bias?.handle, eps, $0) }
            OpRecorder.note("group_norm", [x], out, ["affine": weight == nil ? 0 : 1])
            return out
        }
        public static func gelu(_ x: Tensor, tanhApproximation: Bool) throws -> Tensor {
            let out = try Tensor.make("gelu") { ts_gelu(x.handle, tanhApproximation ? 1 : 0, $0) }
            OpRecorder.note("gelu", [x], out)
            return out
        }
        public static func softmax(_ x: Tensor, dim: Int) throws -> Tensor {
            let out = try Tensor.make("softmax") { ts_softmax(x.handle, Int64(dim), $0) }
            OpRecorder.note("softmax", [x], out)
            return out
        }
        public static func logSoftmax(_ x: Tensor, dim: Int) throws -> Tensor {
            try Tensor.make("log_softmax") { ts_log_softmax(x.handle, Int64(dim), $0) }
        }
        public static func dropout(_ x: Tensor, p: Double, training: Bool) throws -> Tensor {
            guard training, p > 0 else { return x }
            return try Tensor.make("dropout") { ts_dropout(x.handle, p, 1, $0) }
        }
        public static func dropout2d(_ x: Tensor, p: Double, training: Bool) throws -> Tensor {
            guard training, p > 0 else { return x }
            return try Tensor.make("dropout2d") { ts_feature_dropout(x.handle, p, 1, $0) }
        }
        public static func adaptiveAvgPool2d(_ x: Tensor, _ size: (Int, Int)) throws -> Tensor {
            let s = pair(size).map { Int64($0) }
            let out = try Tensor.make("adaptive_avg_pool2d") { ts_adaptive_avg_pool2d(x.handle, s, $0) }
            OpRecorder.note("adaptive_avg_pool2d", [x], out)
            return out
        }
        public static func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int), ceilMode: Bool,
                                     countIncludePad: Bool) throws -> Tensor {
            let k = pair(kernel).map { Int64($0) }, s = pair(stride ?? kernel).map { Int64($0) }, p = pair(padding).map { Int64($0) }
            let out = try Tensor.make("avg_pool2d") { ts_avg_pool2d(x.handle, k, s, p, ceilMode ? 1 : 0, countIncludePad ? 1 : 0, $0) }
            OpRecorder.note("avg_pool2d", [x], out, ["kh": kernel.0, "kw": kernel.1])
            return out
        }
        public static func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int), dilation: (Int, Int),
                                     ceilMode: Bool) throws -> Tensor {
            let k = pair(kernel).map { Int64($0) }, s = pair(stride ?? kernel).map { Int64($0) }
            let p = pair(padding).map { Int64($0) }, d = pair(dilation).map { Int64($0) }
            let out = try Tensor.make("max_pool2d") { ts_max_pool2d(x.handle, k, s, p, d, ceilMode ? 1 : 0, $0) }
            OpRecorder.note("max_pool2d", [x], out, ["kh": kernel.0, "kw": kernel.1])
            return out
        }
        public static func interpolate(_ x: Tensor, size: (Int, Int), mode: InterpolationMode) throws -> Tensor {
            guard size.0 > 0, size.1 > 0 else { throw TorchError("interpolate", "output size must be positive, got \(size)") }
            let s = pair(size).map { Int64($0) }
            switch mode {
            case .bilinear(let alignCorners):
                let out = try Tensor.make("upsample_bilinear2d") { ts_upsample_bilinear2d(x.handle, s, alignCorners ? 1 : 0, $0) }
                OpRecorder.note("upsample_bilinear2d", [x], out)
                return out
            case .bicubic(let alignCorners):
                let out = try Tensor.make("upsample_bicubic2d") { ts_upsample_bicubic2d(x.handle, s, alignCorners ? 1 : 0, $0) }
                OpRecorder.note("upsample_bicubic2d", [x], out)
                return out
            case .nearest:
                let out = try Tensor.make("upsample_nearest2d") { ts_upsample_nearest2d(x.handle, s, $0) }
                OpRecorder.note("upsample_nearest2d", [x], out)
                return out
            }
        }
        public static func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale: Double?,
                                                     dropout: Double = 0) throws -> Tensor {
            guard (0..<1).contains(dropout) else { throw TorchError("scaled_dot_product_attention", "dropout must be in [0, 1), got \(dropout)") }
            let out = try Tensor.make("scaled_dot_product_attention") {
                ts_sdpa(q.handle, k.handle, v.handle, mask?.handle, dropout, 0, scale ?? 0, $0)
            }
            OpRecorder.note("scaled_dot_product_attention", [q, k, v], out)
            return out
        }
        public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: Reduction,
                                        labelSmoothing: Double) throws -> Tensor {
            try Tensor.make("cross_entropy") {
                ts_cross_entropy(logits.handle, target.handle, weight?.handle, reduction.rawValue, Int64(ignoreIndex), labelSmoothing, $0)
            }
        }
        public static func pixelCrossEntropySum(_ logits: Tensor, _ target: Tensor, ignoreIndex: Int) throws -> Tensor {
            try Tensor.make("pixel_cross_entropy") { ts_pixel_cross_entropy_sum(logits.handle, target.handle, Int64(ignoreIndex), $0) }
        }
        public static func upsampledPixelCrossEntropySum(_ logits: Tensor, _ labels: Tensor, ignoreIndex: Int) throws -> Tensor {
            try Tensor.make("upsampled_pixel_cross_entropy") {
                ts_upsampled_pixel_cross_entropy_sum(logits.handle, labels.handle, Int64(ignoreIndex), $0)
            }
        }
        public static func oneHot(_ x: Tensor, numClasses: Int) throws -> Tensor {
            try Tensor.make("one_hot") { ts_one_hot(x.handle, Int64(numClasses), $0) }
        }
    }
}
