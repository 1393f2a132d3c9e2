import Torch

/// The inference form of a decode-head pattern: a 1x1 conv (no bias) + BatchNorm + ReLU over the channel
/// concatenation of maps bilinearly resized to one size, each map optionally projected by a Linear first:
///
///     relu(bn(conv(cat_i(resize(proj_i(x_i))))))  ==  relu(Σ_i resize(G_i x_i) + β)
///
/// A 1x1 conv mixes channels at each pixel, bilinear resizing mixes pixels within each channel (weights summing to
/// 1, so constants pass unchanged), and the two commute; so each input's slice of the conv (composed with its
/// projection, scaled by the BatchNorm) runs at that input's own resolution, and only D-channel maps are resized.
/// SegFormer's All-MLP head and LRFormer's LRHead squeeze layers are this pattern; the savings are the
/// full-resolution GEMM over all concatenated channels and the concatenation itself.
struct ResizedConcatConv {
    /// One packed conv per input, in concatenation order; part 0 carries the whole bias (resizing keeps constants).
    let parts: [PackedConv2d]

    /// `inputChannels[i]`: channels of input i as it enters the concatenation (after its projection, if any).
    /// nil where packing does not apply.
    init?(conv: Conv2d, batchNorm: BatchNorm2d, inputChannels: [Int], projections: [Linear?]) {
        precondition(conv.weight.size(2) == 1 && conv.weight.size(3) == 1 && conv.groups == 1, "ResizedConcatConv: a 1x1 conv")
        precondition(inputChannels.reduce(0, +) == conv.weight.size(1) && projections.count == inputChannels.count)
        guard conv.canPackForInference else { return nil }
        let packed: [PackedConv2d?] = Torch.noGrad {
            let (scale, shift) = batchNorm.evalAffine
            let d = conv.weight.size(0)
            let fuse = conv.weight.detach().to(.float64).view([d, -1]) * scale.view([-1, 1])  // BN scale folded: [D, ΣC]
            var bias = shift + (conv.bias?.detach().to(.float64) ?? Tensor.zeros([d], dtype: .float64)) * scale
            var offset = 0
            var weights: [Tensor] = []
            for (c, projection) in zip(inputChannels, projections) {
                var g = fuse.narrow(1, start: offset, length: c)  // this input's slice [D, c]
                offset += c
                if let projection {
                    if let b = projection.bias { bias = bias + g.matmul(b.detach().to(.float64)) }
                    g = g.matmul(projection.weight.detach().to(.float64))  // [D, C_in]
                }
                weights.append(g.contiguous())
            }
            let geometry = OneDNN.ConvGeometry(stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1)
            return weights.enumerated().map { i, w in
                PackedConv2d.pack(weight: w.to(.float32).view([d, -1, 1, 1]), bias: i == 0 ? bias.to(.float32) : nil, geometry: geometry)
            }
        }
        guard packed.allSatisfy({ $0 != nil }) else { return nil }
        parts = packed.map { $0! }
    }

    /// ReLU(Σ_i resize(G_i x_i) + β) at `size`; inputs are B,C_i,h_i,w_i maps (channels-last ideally).
    func callAsFunction(_ inputs: [Tensor], size: (Int, Int)) -> Tensor {
        precondition(inputs.count == parts.count)
        // Resized parts first, summed into one buffer that the full-size parts then accumulate into (ReLU at the end).
        let full = inputs.indices.filter { inputs[$0].size(2) == size.0 && inputs[$0].size(3) == size.1 }
        var sum: Tensor? = nil
        for i in inputs.indices where !full.contains(i) {
            let up = F.interpolate(parts[i](inputs[i]), size: size)
            if let s = sum { s.add_(up) } else { sum = up }
        }
        guard var result = sum else {
            // No resized input: the plain sum of the full-size parts.
            var out = parts[full[0]](inputs[full[0]])
            for i in full.dropFirst() { out = parts[i].accumulate(inputs[i], into: out) }
            return F.relu(out)
        }
        for (n, i) in full.enumerated() { result = parts[i].accumulate(inputs[i], into: result, relu: n == full.count - 1) }
        return full.isEmpty ? F.relu(result) : result
    }
}
