import Torch

/// mmcv's `ConvModule` with `norm_cfg=GN`: conv (`conv`) -> GroupNorm (`gn`) -> optional ReLU.
public final class ConvGNModule: Module {
    public let conv: Conv2d
    public let gn: GroupNorm
    public let relu: Bool

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 1, padding: Int = 0, bias: Bool, groups: Int, relu: Bool) {
        conv = Conv2d(inChannels, outChannels, kernel: kernel, padding: padding, bias: bias)
        gn = GroupNorm(groups: groups, channels: outChannels)
        self.relu = relu
        super.init()
        register(modules: ("conv", conv), ("gn", gn))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        let y = gn(conv(x))
        return relu ? F.relu(y) : y
    }
}
