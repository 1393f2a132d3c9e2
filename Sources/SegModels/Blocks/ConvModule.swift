import Torch

/// mmcv's ConvModule: conv -> norm -> optional ReLU, with mmcv's parameter names: `conv`, and `bn` for BatchNorm or
/// `gn` for GroupNorm. The decode heads use it without conv bias and with ReLU (the defaults).
public final class ConvModule: Module {
    public enum Norm: Sendable {
        case batch
        /// GroupNorm with this many groups (mmcv `dict(type='GN', num_groups=...)`).
        case group(Int)
    }

    public let conv: Conv2d
    public let norm: Module
    public let relu: Bool

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 1, padding: Int = 0, bias: Bool = false, norm: Norm = .batch,
                relu: Bool = true) {
        conv = Conv2d(inChannels, outChannels, kernel: kernel, padding: padding, bias: bias)
        let normName: String
        switch norm {
        case .batch:
            self.norm = BatchNorm2d(outChannels)
            normName = "bn"
        case .group(let groups):
            self.norm = GroupNorm(groups: groups, channels: outChannels)
            normName = "gn"
        }
        self.relu = relu
        super.init()
        register(modules: ("conv", conv), (normName, self.norm))
    }

    /// Set while optimized for inference: the BatchNorm is folded into the conv, which applies the ReLU too.
    private var normFolded = false

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        if normFolded { return conv(x, activation: relu ? .relu : .identity) }
        let y = norm(conv(x))
        return relu ? F.relu(y) : y
    }

    public override func prepareForInference() {
        if let bn = norm as? BatchNorm2d { normFolded = conv.packForInference(foldingBatchNorm: bn) }
    }

    public override func discardInferencePreparation() { normFolded = false }
}
