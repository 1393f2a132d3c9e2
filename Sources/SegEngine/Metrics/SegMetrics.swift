// Segmentation scores computed as mmsegmentation's IoUMetric does, from dataset-wide pixel areas.

import Foundation

/// Per-class IoU and accuracy, aAcc, mIoU and mAcc. Values are fractions in [0, 1]; reports print them
/// in percent with two decimals, as mmseg does.
///
/// As mmseg: IoU = intersect / union and Acc = intersect / area_label per class; aAcc = sum(intersect) /
/// sum(area_label); mIoU and mAcc are NaN-means. A class absent from both labels and predictions has
/// union 0, hence a NaN IoU, and is left out of mIoU; a class absent from the labels has a NaN Acc (and an
/// IoU of 0 if it was predicted: false positives still count).
public struct SegMetrics: Sendable {
    public let numClasses: Int
    public let areaIntersect: [Int64]
    public let areaUnion: [Int64]
    public let areaPrediction: [Int64]
    public let areaLabel: [Int64]
    public let iou: [Double]
    public let acc: [Double]
    public let aAcc: Double
    public let mIoU: Double
    public let mAcc: Double
    /// Things a user should check before trusting the numbers (absent classes, 0/255 masks, ...).
    public let warnings: [String]

    /// - Parameter classNames: used only to name classes in `warnings`.
    public init(_ confusion: ConfusionMatrix, classNames: [String]? = nil) {
        let n = confusion.numClasses
        numClasses = n
        var intersect = [Int64](repeating: 0, count: n)
        var pred = confusion.predictedOnUnknownLabel
        var label = confusion.labelledWithInvalidPrediction
        for y in 0..<n {
            for p in 0..<n {
                let c = confusion[label: y, prediction: p]
                label[y] += c
                pred[p] += c
                if y == p { intersect[y] = c }
            }
        }
        let union = (0..<n).map { pred[$0] + label[$0] - intersect[$0] }
        areaIntersect = intersect
        areaUnion = union
        areaPrediction = pred
        areaLabel = label
        iou = (0..<n).map { Double(intersect[$0]) / Double(union[$0]) }   // 0/0 = NaN, as numpy
        acc = (0..<n).map { Double(intersect[$0]) / Double(label[$0]) }
        aAcc = Double(intersect.reduce(0, +)) / Double(label.reduce(0, +))
        mIoU = Self.nanMean(iou)
        mAcc = Self.nanMean(acc)
        warnings = Self.warnings(confusion, areaLabel: label, areaPrediction: pred, classNames: classNames)
    }

    /// numpy's nanmean: the mean of the non-NaN values, NaN when there are none.
    public static func nanMean(_ values: [Double]) -> Double {
        let kept = values.filter { !$0.isNaN }
        return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    }

    /// Classes counted in mIoU (union > 0).
    public var classesInMean: Int { iou.filter { !$0.isNaN }.count }
}

extension SegMetrics {
    static func warnings(_ m: ConfusionMatrix, areaLabel: [Int64], areaPrediction: [Int64],
                         classNames: [String]?) -> [String] {
        let n = m.numClasses
        let name = { (c: Int) -> String in
            if let names = classNames, c < names.count { return "\(c) (\(names[c]))" }
            return String(c)
        }
        let labelled = areaLabel.reduce(0, +)
        var out: [String] = []
        if labelled == 0 {
            out.append("no labelled pixel was counted (\(m.ignoredPixels) ignored, \(m.unknownLabelPixels) outside "
                + "0..<\(n)): every score is NaN. Check the label files and the dataset's reduce_zero_label setting.")
            return out
        }
        let present = (0..<n).filter { areaLabel[$0] > 0 }
        if n > 2, present == [0], m.ignoredPixels > 0 {
            out.append("the labels hold only class 0 and the ignore value: they look like binary masks saved as "
                + "0/255, whose foreground is then ignored. Map 255 to 1 and use 2 classes.")
        }
        if m.unknownLabelPixels > 0 {
            out.append("\(m.unknownLabelPixels) labelled pixels have values outside 0..<\(n) that are not the ignore "
                + "index: they count as predicted pixels but never as ground truth. Wrong number of classes, or "
                + "reduce_zero_label applied to 0/255 masks (which gives 254)?")
        }
        if m.invalidPredictionPixels > 0 {
            out.append("\(m.invalidPredictionPixels) predictions are outside 0..<\(n): the model's class count does "
                + "not match the dataset's.")
        }
        let absent = (0..<n).filter { areaLabel[$0] == 0 }
        if !absent.isEmpty {
            let shown = absent.prefix(10).map(name).joined(separator: ", ")
            let more = absent.count > 10 ? " and \(absent.count - 10) more" : ""
            let predicted = absent.filter { areaPrediction[$0] > 0 }.count
            out.append("\(absent.count) of \(n) classes never appear in the labels (\(shown)\(more)): their Acc is "
                + "NaN; their IoU is NaN and left out of mIoU, except for the \(predicted) that were predicted, "
                + "which score IoU 0.")
        }
        return out
    }
}
