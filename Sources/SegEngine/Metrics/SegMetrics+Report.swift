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

    /// Scores in percent rounded to two decimals (as mmseg reports them), NaN written as null, plus the raw
    /// pixel areas so that any score can be recomputed exactly.
    public func json(classNames: [String]) -> Data {
        Data((jsonValue(classNames: classNames).text + "\n").utf8)
    }

    public func jsonValue(classNames: [String]) -> JSONValue {
        let rounded = { (v: Double) -> JSONValue in v.isNaN ? .null : .double((v * 10_000).rounded() / 100) }
        let classes: [JSONValue] = (0..<numClasses).map { c in
            .object([
                JSONField("name", .string(c < classNames.count ? classNames[c] : String(c))),
                JSONField("IoU", rounded(iou[c])),
                JSONField("Acc", rounded(acc[c])),
                JSONField("areaIntersect", .int(areaIntersect[c])),
                JSONField("areaUnion", .int(areaUnion[c])),
                JSONField("areaPrediction", .int(areaPrediction[c])),
                JSONField("areaLabel", .int(areaLabel[c])),
            ])
        }
        return .object([
            JSONField("aAcc", rounded(aAcc)),
            JSONField("mIoU", rounded(mIoU)),
            JSONField("mAcc", rounded(mAcc)),
            JSONField("numClasses", JSONValue(numClasses)),
            JSONField("classesInMean", JSONValue(classesInMean)),
            JSONField("classes", .array(classes)),
            JSONField("warnings", .array(warnings.map(JSONValue.string))),
        ])
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
