import Torch

// The adaptive frequency filter of the paper, as the code computes it: a linear ("factorized") attention
// (the frequency similarity kernel) plus a dynamic low-pass and high-pass filter of the values.

/// `LowPassModule` (the dynamic low-pass filter): the channels split into 4 equal groups; group g is average-pooled
/// to s x s (s = 1, 2, 3, 6), upsampled back (bilinear, align_corners false), concatenated, ReLU. No parameters.
/// Pooling larger than the map (late stages of small inputs) repeats cells, as libtorch's adaptive pooling does.
final class LowPassFilter {
    static let sizes = [1, 2, 3, 6]

    func callAsFunction(_ x: Tensor) -> Tensor {
        let (h, w) = (x.size(2), x.size(3))
        let group = x.size(1) / Self.sizes.count
        let groups = x.split(sizes: Array(repeating: group, count: Self.sizes.count), dim: 1)
        let priors = zip(groups, Self.sizes).map { g, s in F.interpolate(F.adaptiveAvgPool2d(g, (s, s)), size: (h, w)) }
        return F.relu(Tensor.cat(priors, dim: 1))
    }
}

/// `FilterModule` (shared by all blocks of an encoder, key `crpe`): on the values v as an image,
/// q ⊙ HP(v) + LP(v), where HP = depth-wise 3x3 / 5x5 / 7x7 convs on the channels of 2 / 3 / 3 heads.
final class FrequencyFilter: Module {
    /// Heads per high-pass kernel size (upstream's `crpe_window = {3: 2, 5: 3, 7: 3}`).
    static let windows = [(kernel: 3, heads: 2), (kernel: 5, heads: 3), (kernel: 7, heads: 3)]

    let convList: ModuleList<Conv2d>
    let lowPass = LowPassFilter()
    let channelSplits: [Int]

    init(headDim ch: Int) {
        channelSplits = Self.windows.map { $0.heads * ch }
        convList = ModuleList(Self.windows.map { w in
            Conv2d(w.heads * ch, w.heads * ch, kernel: w.kernel, padding: w.kernel / 2, groups: w.heads * ch)
        })
        super.init()
        register(modules: ("conv_list", convList))
    }

    /// q, v: B,heads,N,Ch of an H x W map -> B,heads,N,Ch. Taps `LP` (NCHW).
    func callAsFunction(q: Tensor, v: Tensor, height h: Int, width w: Int, tap: Tap?) -> Tensor {
        let (b, heads, n, ch) = (v.size(0), v.size(1), v.size(2), v.size(3))
        let image = v.transpose(2, 3).reshape([b, heads * ch, h, w])  // B,h,N,Ch -> B,(h Ch),H,W
        let low = lowPass(image)
        tap?("LP", low)
        let high = Tensor.cat(zip(convList.items, image.split(sizes: channelSplits, dim: 1)).map { $0($1) }, dim: 1)
        func toHeads(_ t: Tensor) -> Tensor { t.reshape([b, heads, ch, n]).transpose(2, 3) }  // B,(h Ch),H,W -> B,h,N,Ch
        return q * toHeads(high) + toHeads(low)
    }
}

/// `Frequency_FilterModule` (key `factoratt_crpe`): qkv projection; the frequency similarity kernel
/// softmax_N(k)ᵀ v, applied to q and scaled by Ch^-½; plus the frequency filter (not scaled); output projection.
final class FrequencyFilterAttention: Module {
    let heads: Int
    let qkv: Linear
    let proj: Linear
    let crpe: FrequencyFilter
    let scale: Double

    init(dim: Int, heads: Int, sharedFilter: FrequencyFilter) {
        self.heads = heads
        qkv = Linear(dim, dim * 3)
        proj = Linear(dim, dim)
        crpe = sharedFilter
        scale = 1 / Double(dim / heads).squareRoot()
        super.init()
        register(modules: ("qkv", qkv), ("proj", proj), ("crpe", crpe))
    }

    /// Tokens B,N,C of an H x W map -> B,N,C. Taps `crpe` (B,heads,N,Ch) and `crpe.LP`.
    func callAsFunction(_ x: Tensor, height h: Int, width w: Int, tap: Tap?) -> Tensor {
        let (b, n, c) = (x.size(0), x.size(1), x.size(2))
        let qkv = qkv(x).reshape([b, n, 3, heads, c / heads]).permute(2, 0, 3, 1, 4)  // B,N,3C -> 3,B,h,N,Ch
        let (q, k, v) = (qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2))
        // Linear attention: cost N·Ch² per head instead of N².
        let attention = OpRecorder.scope("attention") {
            let kv = Tensor.einsum("bhnk,bhnv->bhkv", F.softmax(k, dim: 2), v)  // softmax over the tokens
            return Tensor.einsum("bhnk,bhkv->bhnv", q, kv)
        }
        let filtered = crpe(q: q, v: v, height: h, width: w, tap: prefixed(tap, "crpe"))
        tap?("crpe", filtered)
        let merged = (attention * scale + filtered).transpose(1, 2).reshape([b, n, c])  // B,h,N,Ch -> B,N,C
        return proj(merged)
    }
}
