import Torch

/// mmcv's ConvModule as the decode heads use it: conv (no bias) -> BatchNorm -> ReLU,
/// with the parameter names `conv` and `bn`.
public final class ConvModule: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 1, padding: Int = 0) {
        conv = Conv2d(inChannels, outChannels, kernel: kernel, padding: padding, bias: false)
        bn = BatchNorm2d(outChannels)
        super.init()
        register(modules: ("conv", conv), ("bn", bn))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { F.relu(bn(conv(x))) }
}
