import Foundation
import Testing
@testable import SegEngine

@Suite("Metrics")
struct MetricsTests {
    /// 3 classes; two ignored pixels (one predicted as class 2); class 2 absent from labels and from the
    /// counted predictions. Valid (label, prediction) pairs:
    ///   label 0: predicted 0,0,1,1,0  -> row 0 = [3, 2, 0]
    ///   label 1: predicted 1,1,0,1,1  -> row 1 = [1, 4, 0]
    /// intersect [3, 4, 0], area_label [5, 5, 0], area_pred [4, 6, 0], union [6, 7, 0]
    /// IoU [50.00, 57.14, NaN], Acc [60.00, 80.00, NaN], aAcc 7/10, mIoU (0.5 + 4/7) / 2 = 53.57, mAcc 70.00.
    static let labels: [UInt8] = [0, 0, 0, 0, 1, 1, 1, 255, 255, 0, 1, 1]
    static let predictions: [Int32] = [0, 0, 1, 1, 1, 1, 0, 2, 0, 0, 1, 1]
    static let names = ["wall", "building", "sky"]

    static func handMatrix() -> ConfusionMatrix {
        var m = ConfusionMatrix(numClasses: 3)
        m.accumulate(prediction: predictions, label: labels)
        return m
    }

    @Test func confusionCounts() {
        let m = Self.handMatrix()
        #expect(m.counts == [3, 2, 0, 1, 4, 0, 0, 0, 0])
        #expect(m[label: 1, prediction: 0] == 1)
        #expect(m.ignoredPixels == 2)
        #expect(m.unknownLabelPixels == 0)
    }

    @Test func labelAndPredictionTypesAgree() {
        var a = ConfusionMatrix(numClasses: 3)
        a.accumulate(prediction: Self.predictions.map(Int64.init), label: Self.labels.map(Int64.init))
        var b = ConfusionMatrix(numClasses: 3)
        Self.predictions.withUnsafeBufferPointer { p in
            Self.labels.withUnsafeBufferPointer { l in b.accumulate(prediction: p, label: l) }
        }
        #expect(a == Self.handMatrix())
        #expect(b == Self.handMatrix())
    }

    @Test func mmsegScores() {
        let s = SegMetrics(Self.handMatrix())
        #expect(s.areaIntersect == [3, 4, 0])
        #expect(s.areaLabel == [5, 5, 0])
        #expect(s.areaPrediction == [4, 6, 0])
        #expect(s.areaUnion == [6, 7, 0])
        #expect(abs(s.iou[0] - 0.5) < 1e-12)
        #expect(abs(s.iou[1] - 4.0 / 7) < 1e-12)
        #expect(s.iou[2].isNaN)
        #expect(abs(s.acc[1] - 0.8) < 1e-12)
        #expect(s.acc[2].isNaN)
        #expect(abs(s.aAcc - 0.7) < 1e-12)
        #expect(abs(s.mIoU - (0.5 + 4.0 / 7) / 2) < 1e-12)   // class 2 left out of the mean
        #expect(abs(s.mAcc - 0.7) < 1e-12)
        #expect(s.classesInMean == 2)
        #expect(s.warnings.contains { $0.contains("1 of 3 classes never appear in the labels") && $0.contains("2") })
    }

    @Test("a predicted class absent from the labels scores IoU 0 and stays in the mean")
    func falsePositiveClass() {
        var m = ConfusionMatrix(numClasses: 3)
        m.accumulate(prediction: [0, 0, 2, 1] as [Int32], label: [0, 0, 0, 1] as [UInt8])
        let s = SegMetrics(m)
        #expect(s.iou[2] == 0)
        #expect(s.acc[2].isNaN)
        #expect(abs(s.mIoU - (2.0 / 3 + 1 + 0) / 3) < 1e-12)
        #expect(abs(s.mAcc - (2.0 / 3 + 1) / 2) < 1e-12)
    }

    @Test("add(counts:) merges a matrix computed elsewhere")
    func addCounts() {
        var m = Self.handMatrix()
        m.add(counts: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(m.counts == [4, 2, 0, 1, 5, 0, 0, 0, 1])
        var merged = ConfusionMatrix(numClasses: 3)
        merged.merge(Self.handMatrix())
        merged.merge(Self.handMatrix())
        #expect(merged.counts == Self.handMatrix().counts.map { $0 * 2 })
        #expect(merged.ignoredPixels == 4)
    }

    @Test("labels outside the class range count their predictions, as mmseg's histc does")
    func unknownLabels() {
        var m = ConfusionMatrix(numClasses: 3)
        m.accumulate(prediction: [1, 1, 0] as [Int32], label: [7, 1, 0] as [UInt8])
        #expect(m.unknownLabelPixels == 1)
        let s = SegMetrics(m)
        #expect(s.areaPrediction == [1, 2, 0])
        #expect(s.areaLabel == [1, 1, 0])
        #expect(abs(s.iou[1] - 0.5) < 1e-12)
        #expect(s.warnings.contains { $0.contains("outside 0..<3") })
    }

    @Test("0/255 binary masks trigger a warning")
    func binaryMaskWarning() {
        var m = ConfusionMatrix(numClasses: 150)
        m.accumulate(prediction: [0, 0, 3, 0] as [Int32], label: [0, 255, 255, 0] as [UInt8])
        let s = SegMetrics(m, classNames: (0..<150).map { "c\($0)" })
        #expect(s.warnings.contains { $0.contains("binary masks") })
        #expect(s.warnings.contains { $0.contains("149 of 150 classes") && $0.contains("1 (c1)") && $0.contains("and 139 more") })
    }

    @Test func noLabelledPixels() {
        var m = ConfusionMatrix(numClasses: 2)
        m.accumulate(prediction: [0, 1] as [Int32], label: [255, 255] as [UInt8])
        let s = SegMetrics(m)
        #expect(s.aAcc.isNaN && s.mIoU.isNaN)
        #expect(s.warnings.first?.contains("no labelled pixel") == true)
    }

    @Test("table prints percent with two decimals, nan for absent classes, and the summary")
    func table() {
        let text = SegMetrics(Self.handMatrix()).table(classNames: Self.names)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("wall") && $0.contains("50.00") && $0.contains("60.00") })
        #expect(lines.contains { $0.contains("building") && $0.contains("57.14") && $0.contains("80.00") })
        #expect(lines.contains { $0.contains("sky") && $0.contains("nan") })
        #expect(lines.contains { $0.hasPrefix("| ") && $0.contains("Class") && $0.contains("IoU") && $0.contains("Acc") })
        #expect(text.contains("aAcc: 70.00  mIoU: 53.57  mAcc: 70.00"))
        #expect(text.contains("(mIoU over 2 of 3 classes)"))
        // Every table row has the same width.
        let rows = lines.filter { $0.hasPrefix("|") || $0.hasPrefix("+") }
        #expect(Set(rows.map(\.count)).count == 1)
    }

    @Test("json writes NaN as null and rounds to two decimals")
    func json() throws {
        let data = SegMetrics(Self.handMatrix()).json(classNames: Self.names)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["mIoU"] as? Double == 53.57)
        #expect(object["aAcc"] as? Double == 70)
        let classes = try #require(object["classes"] as? [[String: Any]])
        #expect(classes.count == 3)
        #expect(classes[1]["name"] as? String == "building")
        #expect(classes[1]["IoU"] as? Double == 57.14)
        #expect(classes[2]["IoU"] is NSNull)
        #expect(classes[2]["Acc"] is NSNull)
        #expect(classes[0]["areaUnion"] as? Int == 6)
    }

    @Test func largeImageSinglePass() {
        // 1024 x 2048 pixels, label = pixel % 19 except every 10th ignored; prediction = label shifted for odd rows.
        let count = 1024 * 2048
        var labels = [UInt8](repeating: 0, count: count)
        var preds = [Int64](repeating: 0, count: count)
        for i in 0..<count {
            labels[i] = i % 10 == 0 ? 255 : UInt8(i % 19)
            preds[i] = Int64((i / 2048) % 2 == 0 ? i % 19 : (i + 1) % 19)
        }
        var m = ConfusionMatrix(numClasses: 19)
        m.accumulate(prediction: preds, label: labels)
        #expect(m.counts.reduce(0, +) + m.ignoredPixels == Int64(count))
        #expect(m.ignoredPixels == Int64(count / 10 + (count % 10 == 0 ? 0 : 1)))
        let s = SegMetrics(m)
        #expect(abs(s.aAcc - 0.5) < 1e-3)
    }
}
