import Torch

/// mmcv's ConvModule as the decode heads use it: conv (no bias) -> norm -> ReLU, with mmcv's parameter
/// names: `conv`, and `bn` for BatchNorm or `gn` for GroupNorm.
public final class ConvModule: Module {
    public enum Norm: Sendable {
        case batch
        /// GroupNorm with this many groups (mmcv `dict(type='GN', num_groups=...)`).
        case group(Int)
    }

    public let conv: Conv2d
    public let norm: Module

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 1, padding: Int = 0, norm: Norm = .batch) {
        conv = Conv2d(inChannels, outChannels, kernel: kernel, padding: padding, bias: false)
        let normName: String
        switch norm {
        case .batch:
            self.norm = BatchNorm2d(outChannels)
            normName = "bn"
        case .group(let groups):
            self.norm = GroupNorm(groups: groups, channels: outChannels)
            normName = "gn"
        }
        super.init()
        register(modules: ("conv", conv), (normName, self.norm))
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { F.relu(norm(conv(x))) }
}
