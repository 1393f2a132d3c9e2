import Torch

// Pixel counts accumulated over a whole dataset (mmseg sums areas over all images, it never averages
// per-image scores). Rows are ground-truth classes, columns predicted classes.

/// numClasses x numClasses pixel counts, plus the side counts mmseg's `intersect_and_union` also sees:
/// ignored pixels are dropped; a label outside 0..<numClasses (not the ignore value) still counts its
/// prediction in the predicted area (mmseg's `histc` keeps the prediction, drops the label); a prediction
/// outside the range still counts its label in the label area.
public struct ConfusionMatrix: Sendable, Equatable {
    public let numClasses: Int
    /// Row-major counts, `counts[label * numClasses + prediction]`.
    public var counts: [Int64] { storage }
    /// Pixels whose label equals the ignore index.
    public var ignoredPixels: Int64 { ignored }
    /// Pixels whose label is outside 0..<numClasses and is not the ignore index.
    public var unknownLabelPixels: Int64 { unknownLabels }
    /// Pixels with a valid label whose prediction is outside 0..<numClasses.
    public var invalidPredictionPixels: Int64 { invalidPredictions }
    /// Per predicted class: pixels predicted so whose label was unknown (part of mmseg's area_pred_label).
    public var predictedOnUnknownLabel: [Int64] { predOnUnknown }
    /// Per label class: pixels labelled so whose prediction was invalid (part of mmseg's area_label).
    public var labelledWithInvalidPrediction: [Int64] { labelOnInvalid }

    @usableFromInline var storage: [Int64]
    @usableFromInline var ignored: Int64 = 0
    @usableFromInline var unknownLabels: Int64 = 0
    @usableFromInline var invalidPredictions: Int64 = 0
    @usableFromInline var predOnUnknown: [Int64]
    @usableFromInline var labelOnInvalid: [Int64]

    public init(numClasses: Int) {
        precondition(numClasses > 0, "ConfusionMatrix: numClasses must be positive, got \(numClasses)")
        self.numClasses = numClasses
        storage = Array(repeating: 0, count: numClasses * numClasses)
        predOnUnknown = Array(repeating: 0, count: numClasses)
        labelOnInvalid = Array(repeating: 0, count: numClasses)
    }

    /// Count of pixels labelled `label` and predicted `prediction`.
    public subscript(label label: Int, prediction prediction: Int) -> Int64 {
        storage[label * numClasses + prediction]
    }

    /// Adds one image (or batch) of per-pixel class indices. One pass, no allocation; `@inlinable` so that
    /// the caller's element types get a specialised loop.
    @inlinable
    public mutating func accumulate<P: BinaryInteger, L: BinaryInteger>(
        prediction: UnsafeBufferPointer<P>, label: UnsafeBufferPointer<L>, ignoreIndex: Int = 255
    ) {
        precondition(prediction.count == label.count,
                     "ConfusionMatrix.accumulate: \(prediction.count) predictions for \(label.count) labels")
        let n = numClasses
        // All counters live in locals or raw buffers inside one closure: captured `var`s would be boxed and
        // slow the per-pixel loop down several times.
        let side = storage.withUnsafeMutableBufferPointer { cells in
            labelOnInvalid.withUnsafeMutableBufferPointer { labelOnInvalid in
                predOnUnknown.withUnsafeMutableBufferPointer { predOnUnknown in
                    Self.count(prediction: prediction, label: label, ignoreIndex: ignoreIndex, n: n, cells: cells,
                               labelOnInvalid: labelOnInvalid, predOnUnknown: predOnUnknown)
                }
            }
        }
        ignored &+= side.ignored
        unknownLabels &+= side.unknown
        invalidPredictions &+= side.invalid
    }

    /// The per-pixel loop. Pre-specialised for the usual index types: the optimiser does not always
    /// specialise a generic called through the buffer closures, and the unspecialised loop is ~10x slower.
    @inlinable
    @_specialize(where P == Int64, L == UInt8)
    @_specialize(where P == Int64, L == Int64)
    @_specialize(where P == Int32, L == UInt8)
    @_specialize(where P == Int32, L == Int64)
    @_specialize(where P == Int64, L == Int32)
    @_specialize(where P == Int32, L == Int32)
    @_specialize(where P == UInt8, L == UInt8)
    static func count<P: BinaryInteger, L: BinaryInteger>(
        prediction: UnsafeBufferPointer<P>, label: UnsafeBufferPointer<L>, ignoreIndex: Int, n: Int,
        cells: UnsafeMutableBufferPointer<Int64>, labelOnInvalid: UnsafeMutableBufferPointer<Int64>,
        predOnUnknown: UnsafeMutableBufferPointer<Int64>
    ) -> (ignored: Int64, unknown: Int64, invalid: Int64) {
        var ignored: Int64 = 0, unknown: Int64 = 0, invalid: Int64 = 0
        let un = UInt(n)
        for k in 0..<label.count {
            let y = Int(truncatingIfNeeded: label[k])
            let p = Int(truncatingIfNeeded: prediction[k])
            // The UInt comparison tests 0 <= v < n in one branch.
            if UInt(bitPattern: y) < un {
                if UInt(bitPattern: p) < un {
                    cells[y &* n &+ p] &+= 1
                } else {
                    invalid &+= 1
                    labelOnInvalid[y] &+= 1
                }
            } else if y == ignoreIndex {
                ignored &+= 1
            } else {
                unknown &+= 1
                if UInt(bitPattern: p) < un { predOnUnknown[p] &+= 1 }
            }
        }
        return (ignored, unknown, invalid)
    }

    @inlinable
    public mutating func accumulate<P: BinaryInteger, L: BinaryInteger>(
        prediction: [P], label: [L], ignoreIndex: Int = 255
    ) {
        prediction.withUnsafeBufferPointer { p in
            label.withUnsafeBufferPointer { l in accumulate(prediction: p, label: l, ignoreIndex: ignoreIndex) }
        }
    }

    /// Merges a numClasses x numClasses count matrix computed elsewhere (e.g. a bincount on the GPU),
    /// row-major with rows = labels.
    public mutating func add(counts other: [Int64]) {
        precondition(other.count == storage.count,
                     "ConfusionMatrix.add: \(other.count) counts for a \(numClasses)x\(numClasses) matrix")
        for k in storage.indices { storage[k] &+= other[k] }
    }

    /// Records ignored pixels counted elsewhere (a GPU path that only returns the matrix).
    public mutating func addIgnored(_ pixels: Int64) { ignored &+= pixels }

    /// Merges another matrix, side counts included (e.g. from another worker).
    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.numClasses == numClasses,
                     "ConfusionMatrix.merge: \(other.numClasses) classes into \(numClasses)")
        add(counts: other.storage)
        ignored &+= other.ignored
        unknownLabels &+= other.unknownLabels
        invalidPredictions &+= other.invalidPredictions
        for c in 0..<numClasses {
            predOnUnknown[c] &+= other.predOnUnknown[c]
            labelOnInvalid[c] &+= other.labelOnInvalid[c]
        }
    }
}

extension ConfusionMatrix {
    /// Every count summed over the ranks of `group` (one int64 all-reduce): the matrix of all ranks' images.
    func summed(over group: ProcessGroup) throws -> ConfusionMatrix {
        let t = Tensor(flat, shape: [flat.count])
        try group.allReduce(t, op: .sum)
        return ConfusionMatrix(numClasses: numClasses, flat: try t.checked.toArray(Int64.self))
    }

    /// Every count in one array: the cells, then ignored, unknown-label and invalid-prediction pixels, then the
    /// per-class side counts (what a collective or a device accumulator carries).
    var flat: [Int64] { storage + [ignored, unknownLabels, invalidPredictions] + predOnUnknown + labelOnInvalid }

    static func flatCount(numClasses k: Int) -> Int { k * k + 3 + 2 * k }

    init(numClasses: Int, flat total: [Int64]) {
        precondition(total.count == Self.flatCount(numClasses: numClasses), "ConfusionMatrix: \(total.count) counts for \(numClasses) classes")
        self.init(numClasses: numClasses)
        let n = numClasses * numClasses
        storage = Array(total[0..<n])
        (ignored, unknownLabels, invalidPredictions) = (total[n], total[n + 1], total[n + 2])
        predOnUnknown = Array(total[(n + 3)..<(n + 3 + numClasses)])
        labelOnInvalid = Array(total[(n + 3 + numClasses)...])
    }
}
