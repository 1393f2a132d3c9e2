// A confusion matrix accumulated on the predictions' device: on a GPU each image's class map stays there, and only
// the counts (K x K plus side counts) come back to the host, once, at the end.

import Torch

/// `ConfusionMatrix` counts, kept as one int64 tensor on `device` in `ConfusionMatrix.flat`'s layout and updated by
/// two bincounts per image. The counting rules are ConfusionMatrix's: ignored labels are dropped, a label outside
/// 0..<numClasses keeps its prediction in the predicted area, an invalid prediction keeps its label in the label area.
public struct DeviceConfusionMatrix {
    public let numClasses: Int
    public let device: Device
    private var counts: Tensor

    public init(numClasses: Int, device: Device) {
        precondition(numClasses > 0, "DeviceConfusionMatrix: numClasses must be positive, got \(numClasses)")
        self.numClasses = numClasses
        self.device = device
        counts = Tensor.zeros([ConfusionMatrix.flatCount(numClasses: numClasses)], dtype: .int64, device: device)
    }

    /// Adds one image: `prediction`, integer class indices of any shape (on any device), and its row-major labels.
    public mutating func accumulate(prediction: Tensor, labels: [UInt8], ignoreIndex: Int = 255) throws {
        guard prediction.count == labels.count else {
            throw EngineError("confusion matrix: \(prediction.count) predictions for \(labels.count) labels")
        }
        let k = numClasses, cells = k * k, total = counts.count
        func constant(_ v: Int) -> Tensor { Tensor.scalar(Double(v), dtype: .int64, device: device) }
        let p = try prediction.checked.to(dtype: .int64, device: device).reshape([-1])
        let l = try Tensor(labels).checked.to(device: device).to(dtype: .int64)
        let labelValid = (l .>= 0) .& (l .< Double(k)), predValid = (p .>= 0) .& (p .< Double(k))
        let ignored = (l .== Double(ignoreIndex)) .& labelValid.logicalNot()
        let unknown = labelValid.logicalNot() .& ignored.logicalNot()
        // One bin per pixel: its cell, or a side count; `total` is a dump bin dropped below.
        var bin = Tensor.where(unknown, constant(cells + 1), constant(total))
        bin = Tensor.where(ignored, constant(cells), bin)
        bin = Tensor.where(labelValid .& predValid, l * constant(k) + p, bin)
        bin = Tensor.where(labelValid .& predValid.logicalNot(), l + constant(cells + 3 + k), bin)
        // Unknown labels also count their prediction in the predicted area.
        let predicted = Tensor.where(unknown .& predValid, p + constant(cells + 3), constant(total))
        let add = bin.bincount(minLength: total + 1).narrow(0, start: 0, length: total)
            + predicted.bincount(minLength: total + 1).narrow(0, start: 0, length: total)
        counts.add_(add)
    }

    /// The counts on the host (one copy).
    public func matrix() throws -> ConfusionMatrix {
        var matrix = ConfusionMatrix(numClasses: numClasses, flat: try counts.checked.to(device: .cpu).toArray(Int64.self))
        matrix.invalidPredictions = matrix.labelOnInvalid.reduce(0, +)  // each invalid prediction has its label's count
        return matrix
    }
}
