import Torch

/// mmdet's `SinePositionalEncoding` for an unpadded map (DETR): per pixel, `numFeats` channels for the row then
/// `numFeats` for the column, sin on even and cos on odd channels of (position / 10000^(2⌊k/2⌋/numFeats)), with
/// positions 1...H (1...W) normalised to (0, 2π]. The arithmetic follows mmdet's, op for op, in float32.
public struct SinePositionalEncoding: Sendable {
    public var numFeats: Int
    public var temperature: Double = 10000
    public var scale: Double = 2 * Double.pi
    public var eps: Double = 1e-6

    public init(numFeats: Int) { self.numFeats = numFeats }

    /// -> 1, 2·numFeats, H, W.
    public func callAsFunction(height h: Int, width w: Int, device: Device = .cpu) -> Tensor {
        // Cumulative sums of an all-valid mask are 1...H down the rows and 1...W along the columns.
        let y = Tensor.arange(1, Double(h + 1), dtype: .float32, device: device).view([1, h, 1])
        let x = Tensor.arange(1, Double(w + 1), dtype: .float32, device: device).view([1, 1, w])
        let yNorm = y / (y.slice(1, start: h - 1, end: h) + eps) * scale
        let xNorm = x / (x.slice(2, start: w - 1, end: w) + eps) * scale
        let k = Tensor.arange(0, Double(numFeats), dtype: .float32, device: device)
        let dimT = Tensor.full([numFeats], temperature, device: device).pow((k / 2).floor() * 2 / Double(numFeats))

        // 1,H,W,F: sin of the even and cos of the odd channels, interleaved.
        func encode(_ position: Tensor, _ shape: [Int]) -> Tensor {
            let p = position.unsqueeze(-1) / dimT
            let sin = p.slice(-1, start: 0, end: numFeats, step: 2).sin()
            let cos = p.slice(-1, start: 1, end: numFeats, step: 2).cos()
            return Tensor.stack([sin, cos], dim: 4).view(shape + [numFeats])
        }
        let posY = encode(yNorm, [1, h, 1]).expand([1, h, w, numFeats])
        let posX = encode(xNorm, [1, 1, w]).expand([1, h, w, numFeats])
        return Tensor.cat([posY, posX], dim: 3).permute(0, 3, 1, 2)  // 1,H,W,2F -> 1,2F,H,W
    }
}
