// Text and JSON renderings of SegMetrics, shaped like mmseg's evaluation output.

import Foundation

extension SegMetrics {
    /// A fraction as mmseg prints it: percent, two decimals, "nan" for NaN.
    public static func percent(_ value: Double) -> String {
        value.isNaN ? "nan" : String(format: "%.2f", value * 100)
    }

    /// The per-class table (Class | IoU | Acc) in mmseg's (prettytable) layout, then the summary line.
    /// Names beyond `classNames` are written as class indices.
    public func table(classNames: [String]) -> String {
        let rows = (0..<numClasses).map { c in
            [c < classNames.count ? classNames[c] : String(c), Self.percent(iou[c]), Self.percent(acc[c])]
        }
        var out = "per class results:\n\n"
        out += Self.boxTable(header: ["Class", "IoU", "Acc"], rows: rows)
        out += summaryLine + "\n"
        return out
    }

    /// "aAcc: 82.01  mIoU: 44.33  mAcc: 55.12", plus how many classes mIoU averages when some are absent.
    public var summaryLine: String {
        var line = "aAcc: \(Self.percent(aAcc))  mIoU: \(Self.percent(mIoU))  mAcc: \(Self.percent(mAcc))"
        if classesInMean < numClasses { line += "  (mIoU over \(classesInMean) of \(numClasses) classes)" }
        return line
    }

    /// Scores in percent rounded to two decimals as mmseg reports them (`np.round(x * 100, 2)`, half to even), NaN
    /// written as null, plus the raw pixel areas so that any score can be recomputed exactly; `protocol` records how
    /// the images were tested.
    public func json(classNames: [String], protocol record: EvaluationSettings.Record? = nil) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let report = Report(
            aAcc: Self.rounded(aAcc), mIoU: Self.rounded(mIoU), mAcc: Self.rounded(mAcc), numClasses: numClasses,
            classesInMean: classesInMean,
            classes: (0..<numClasses).map { c in
                ClassReport(name: c < classNames.count ? classNames[c] : String(c), IoU: Self.rounded(iou[c]), Acc: Self.rounded(acc[c]),
                            areaIntersect: areaIntersect[c], areaUnion: areaUnion[c], areaPrediction: areaPrediction[c],
                            areaLabel: areaLabel[c])
            },
            warnings: warnings, protocol: record)
        return ((try? encoder.encode(report)) ?? Data("{}".utf8)) + Data("\n".utf8)
    }

    /// A fraction as mmseg's JSON has it: `np.round(value * 100, 2)`, i.e. round half to even on value * 10000.
    public static func rounded(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        return ((value * 100) * 100).rounded(.toNearestOrEven) / 100
    }

    struct Report: Encodable {
        var aAcc: Double?
        var mIoU: Double?
        var mAcc: Double?
        var numClasses: Int
        var classesInMean: Int
        var classes: [ClassReport]
        var warnings: [String]
        var `protocol`: EvaluationSettings.Record?

        enum CodingKeys: String, CodingKey { case aAcc, mIoU, mAcc, numClasses, classesInMean, classes, warnings, `protocol` }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(aAcc, forKey: .aAcc)  // null for NaN
            try c.encode(mIoU, forKey: .mIoU)
            try c.encode(mAcc, forKey: .mAcc)
            try c.encode(numClasses, forKey: .numClasses)
            try c.encode(classesInMean, forKey: .classesInMean)
            try c.encode(classes, forKey: .classes)
            try c.encode(warnings, forKey: .warnings)
            try c.encodeIfPresent(`protocol`, forKey: .protocol)
        }
    }

    struct ClassReport: Encodable {
        var name: String
        var IoU: Double?
        var Acc: Double?
        var areaIntersect: Int64
        var areaUnion: Int64
        var areaPrediction: Int64
        var areaLabel: Int64

        enum CodingKeys: String, CodingKey { case name, IoU, Acc, areaIntersect, areaUnion, areaPrediction, areaLabel }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(IoU, forKey: .IoU)
            try c.encode(Acc, forKey: .Acc)
            try c.encode(areaIntersect, forKey: .areaIntersect)
            try c.encode(areaUnion, forKey: .areaUnion)
            try c.encode(areaPrediction, forKey: .areaPrediction)
            try c.encode(areaLabel, forKey: .areaLabel)
        }
    }

    /// prettytable's default look: +---+ borders, one space of padding, centred cells.
    static func boxTable(header: [String], rows: [[String]]) -> String {
        let widths = header.indices.map { col in
            ([header[col]] + rows.map { $0[col] }).map(\.count).max()! + 2
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "+") + "+\n"
        let line = { (cells: [String]) -> String in
            "|" + cells.indices.map { Self.center(cells[$0], widths[$0]) }.joined(separator: "|") + "|\n"
        }
        return rule + line(header) + rule + rows.map(line).joined() + rule
    }

    static func center(_ text: String, _ width: Int) -> String {
        let pad = max(width - text.count, 0)
        return String(repeating: " ", count: pad / 2) + text + String(repeating: " ", count: pad - pad / 2)
    }
}
