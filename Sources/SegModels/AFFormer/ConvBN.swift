import Torch

/// `Conv2d_BN`: conv (no bias) -> BatchNorm -> Hardswish or nothing. Keys `conv`, `bn`.
final class Conv2dBN: Module {
    let conv: Conv2d
    let bn: BatchNorm2d
    let hardswish: Bool

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 1, stride: Int = 1, padding: Int = 0, hardswish: Bool) {
        conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: false)
        bn = BatchNorm2d(outChannels)
        self.hardswish = hardswish
        super.init()
        register(modules: ("conv", conv), ("bn", bn))
    }

    override func callAsFunction(_ x: Tensor) -> Tensor {
        let y = bn(conv(x))
        return hardswish ? F.hardswish(y) : y
    }
}

/// `DWConv2d_BN`: depth-wise 3x3 (stride s, no bias) -> point-wise 1x1 (no bias) -> BatchNorm -> Hardswish.
/// Keys `dwconv`, `pwconv`, `bn`. With stride s a side n becomes floor((n - 1) / s) + 1.
final class DWConv2dBN: Module {
    let dwconv: Conv2d
    let pwconv: Conv2d
    let bn: BatchNorm2d

    init(channels c: Int, stride: Int) {
        dwconv = Conv2d(c, c, kernel: 3, stride: stride, padding: 1, groups: c, bias: false)
        pwconv = Conv2d(c, c, kernel: 1, bias: false)
        bn = BatchNorm2d(c)
        super.init()
        register(modules: ("dwconv", dwconv), ("pwconv", pwconv), ("bn", bn))
    }

    override func callAsFunction(_ x: Tensor) -> Tensor { F.hardswish(bn(pwconv(dwconv(x)))) }
}

/// `Restore`, the paper's "pixel descriptor": a residual bottleneck at full stage resolution,
/// x + conv2(Hardswish(BN(dw3x3(conv1(x))))) with conv1 halving the channels (1x1 + BN + Hardswish) and
/// conv2 (1x1 + BN) restoring them.
final class Restore: Module {
    let conv1: Conv2dBN
    let dwconv: Conv2d
    let norm: BatchNorm2d
    let conv2: Conv2dBN

    init(channels c: Int) {
        conv1 = Conv2dBN(c, c / 2, hardswish: true)
        dwconv = Conv2d(c / 2, c / 2, kernel: 3, padding: 1, groups: c / 2, bias: false)
        norm = BatchNorm2d(c / 2)
        conv2 = Conv2dBN(c / 2, c, hardswish: false)
        super.init()
        register(modules: ("conv1", conv1), ("dwconv", dwconv), ("norm", norm), ("conv2", conv2))
    }

    override func callAsFunction(_ x: Tensor) -> Tensor {
        x + conv2(F.hardswish(norm(dwconv(conv1(x)))))
    }
}
