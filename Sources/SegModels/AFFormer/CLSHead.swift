import Torch

/// The "head-free" classifier (`CLS` in aff_head.py): on the last backbone output only, a 1x1 ConvModule
/// (conv + GroupNorm + ReLU, `squeeze`), Dropout2d, and the 1x1 classifier `conv_seg`. Logits at 1/8.
/// `align` (another ConvModule) is built and saved upstream but never used: it is kept for the checkpoints.
public final class CLSHead: Module {
    public let numClasses: Int
    let convSeg: Conv2d
    let dropout: Dropout2d
    let squeeze: ConvModule
    let align: ConvModule

    init(inChannels: Int, channels: Int, groups: Int, numClasses: Int, dropout p: Double) {
        self.numClasses = numClasses
        convSeg = Conv2d(channels, numClasses, kernel: 1)
        dropout = Dropout2d(p)
        squeeze = ConvModule(inChannels, channels, norm: .group(groups))
        align = ConvModule(channels, channels, norm: .group(groups))  // aff_channels = channels in every config
        super.init()
        // BaseDecodeHead registers conv_seg and dropout first.
        register(modules: ("conv_seg", convSeg), ("dropout", dropout), ("squeeze", squeeze), ("align", align))
    }

    /// The backbone outputs -> logits B,K,H/8,W/8. Taps `squeeze` and `conv_seg`.
    func callAsFunction(_ features: [Tensor], tap: Tap?) -> Tensor {
        let x = squeeze(features[3])
        tap?("squeeze", x)
        let logits = convSeg(dropout(x))
        tap?("conv_seg", logits)
        return logits
    }
}
