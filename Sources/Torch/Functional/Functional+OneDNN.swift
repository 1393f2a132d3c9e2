import CTorch

/// The CPU inference kernels that PyTorch's inductor uses when it freezes a model: oneDNN convolutions and inner
/// products on weights reordered once into the kernel's blocked layout, with the bias, a pointwise op or an
/// addition applied in the same pass, and MKL's packed sgemm. Only for float32 CPU tensors; packed weights are
/// opaque (usable only by these ops). Outputs of convolutions are channels-last.
public enum OneDNN {
    /// Whether this libtorch was built with oneDNN (every official x86 build is).
    public static let isAvailable: Bool = ts_mkldnn_available() != 0
    public static let hasMKL: Bool = ts_mkl_available() != 0

    public struct ConvGeometry: Sendable, Equatable {
        public var stride: (Int, Int)
        public var padding: (Int, Int)
        public var dilation: (Int, Int)
        public var groups: Int

        public init(stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int) {
            self.stride = stride
            self.padding = padding
            self.dilation = dilation
            self.groups = groups
        }

        public static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
            a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation && a.groups == b.groups
        }

        var arrays: (stride: [Int64], padding: [Int64], dilation: [Int64]) {
            ([stride.0, stride.1].map(Int64.init), [padding.0, padding.1].map(Int64.init), [dilation.0, dilation.1].map(Int64.init))
        }
    }

    /// Throwing forms (the trapping ones below forward here).
    public enum Checked {
        public static func packConv2dWeight(_ weight: Tensor, geometry g: ConvGeometry, inputSize: [Int]? = nil) throws -> Tensor {
            let a = g.arrays
            let size = inputSize?.map(Int64.init)
            return try Tensor.make("mkldnn_pack_conv2d_weight") {
                ts_mkldnn_pack_conv2d_weight(weight.handle, a.padding, a.stride, a.dilation, Int64(g.groups), size, $0)
            }
        }

        /// activation(conv(x) + bias [+ other]) with a packed weight; channels-last output.
        public static func conv2d(_ x: Tensor, packedWeight w: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                  activation: Activation, adding other: Tensor? = nil) throws -> Tensor {
            let a = g.arrays
            if let other {
                let unary: String? = activation == .identity ? nil : activation.oneDNN.attr
                guard activation == .identity || activation == .relu else {
                    throw TorchError("mkldnn_conv2d_add", "only ReLU can follow a fused addition, not \(activation)")
                }
                return try Tensor.make("mkldnn_conv2d_add") {
                    ts_mkldnn_conv2d_add(x.handle, other.handle, w.handle, bias?.handle, a.padding, a.stride, a.dilation, Int64(g.groups),
                                         unary, $0)
                }
            }
            let (attr, algorithm) = activation.oneDNN
            return try Tensor.make("mkldnn_conv2d") {
                ts_mkldnn_conv2d(x.handle, w.handle, bias?.handle, a.padding, a.stride, a.dilation, Int64(g.groups), attr, algorithm, $0)
            }
        }

        /// other += conv(x) + bias in place (oneDNN's sum post-op into `other`, which must be channels-last and shaped like
        /// the output; groups 1), then ReLU if `relu`.
        public static func conv2dAccumulate(_ x: Tensor, packedWeight w: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                            into other: Tensor, relu: Bool = false) throws {
            let a = g.arrays
            try Tensor.check("mkldnn_conv2d_add_",
                             ts_mkldnn_conv2d_add_(other.handle, x.handle, w.handle, bias?.handle, a.padding, a.stride, a.dilation,
                                                   Int64(g.groups), relu ? 1 : 0))
        }

        /// `batchSize`: the expected number of rows (product of the input's leading dimensions), a hint only.
        public static func packLinearWeight(_ weight: Tensor, batchSize: Int? = nil) throws -> Tensor {
            try Tensor.make("mkldnn_pack_linear_weight") { ts_mkldnn_pack_linear_weight(weight.handle, Int64(batchSize ?? 0), $0) }
        }

        /// activation(x Wᵀ + bias) or x Wᵀ + bias + other, over the last dimension of x.
        public static func linear(_ x: Tensor, packedWeight w: Tensor, bias: Tensor?, activation: Activation,
                                  adding other: Tensor? = nil) throws -> Tensor {
            if let other {
                guard activation == .identity else {
                    throw TorchError("mkldnn_linear_add", "no activation can follow a fused addition in a linear layer")
                }
                return try Tensor.make("mkldnn_linear_add") { ts_mkldnn_linear_add(x.handle, other.handle, w.handle, bias?.handle, $0) }
            }
            let (attr, algorithm) = activation.oneDNN
            return try Tensor.make("mkldnn_linear") { ts_mkldnn_linear(x.handle, w.handle, bias?.handle, attr, algorithm, $0) }
        }

        /// MKL's packed sgemm weight for exactly `batchSize` rows.
        public static func packMKLLinearWeight(_ weight: Tensor, batchSize: Int) throws -> Tensor {
            try Tensor.make("mkl_pack_linear_weight") { ts_mkl_pack_linear_weight(weight.handle, Int64(batchSize), $0) }
        }

        /// x Wᵀ + bias with MKL's packed weight when x has `batchSize` rows, else with the plain `weight`.
        public static func mklLinear(_ x: Tensor, packedWeight p: Tensor, weight: Tensor, bias: Tensor?, batchSize: Int) throws -> Tensor {
            try Tensor.make("mkl_linear") { ts_mkl_linear(x.handle, p.handle, weight.handle, bias?.handle, Int64(batchSize), $0) }
        }
    }

    public static func conv2d(_ x: Tensor, packedWeight w: Tensor, bias: Tensor?, geometry: ConvGeometry, activation: Activation = .identity,
                              adding other: Tensor? = nil) -> Tensor {
        Tensor.trap { try Checked.conv2d(x, packedWeight: w, bias: bias, geometry: geometry, activation: activation, adding: other) }
    }

    public static func linear(_ x: Tensor, packedWeight w: Tensor, bias: Tensor?, activation: Activation = .identity,
                              adding other: Tensor? = nil) -> Tensor {
        Tensor.trap { try Checked.linear(x, packedWeight: w, bias: bias, activation: activation, adding: other) }
    }
}
