// Text and JSON forms of a FlopReport. Values in G (1e9) as the papers and flops.md print them.

import Foundation
import SegModels

extension FlopReport {
    /// The reference figures for this model and input, when flops.md has them.
    public var reference: FlopReference? {
        guard inputShape.count == 4, inputShape[0] == 1 else { return nil }
        let classes = outputShapes.count == 1 && outputShapes[0].count == 4 ? outputShapes[0][1] : nil
        return ModelRegistry.flopReference(model: model, height: inputShape[2], width: inputShape[3], numClasses: classes)
    }

    /// A readable multi-line summary.
    public var text: String {
        let ref = reference
        var lines: [String] = []
        lines.append("\(model)  input \(Self.shape(inputShape))  output \(outputShapes.map(Self.shape).joined(separator: ", "))")
        var params = "params          \(Self.fixed(Double(parameters) / 1e6, 2)) M"
        if let p = ref?.paramsM { params += "  (reference \(Self.fixed(p, 2)) M)" }
        lines.append(params)
        var totalLine = "FLOPs           \(Self.giga(total)) G"
        if let ref {
            totalLine += "  (reference \(Self.fixed(ref.totalG, 2)) G, \(Self.signed(ref.percentDifference(total)))%"
            totalLine += ref.paperG.map { "; paper \(Self.fixed($0, 1)) G)" } ?? ")"
        }
        lines.append(totalLine)
        if !byScope.isEmpty {
            lines.append("  by part       " + byScope.map { "\($0.scope) \(Self.giga($0.flops))" }.joined(separator: " / ") + " G")
        }
        lines.append("by operator (G):")
        for op in byOperator {
            var line = "  " + op.op.padding(toLength: 22, withPad: " ", startingAt: 0) + Self.leftPad(Self.giga(op.flops), 10)
            if let r = ref?.operatorsG?[op.op] { line += "   reference " + Self.fixed(r, 2) }
            lines.append(line)
        }
        if !convSplit.isEmpty {
            let kinds = convSplit.map(\.kind.rawValue).joined(separator: " / ")
            var line = "conv split      \(kinds): " + convSplit.map { Self.giga($0.flops) }.joined(separator: " / ") + " G"
            if let r = ref?.convSplitG {
                line += "  (reference " + convSplit.map { r[$0.kind.rawValue].map { Self.fixed($0, 2) } ?? "-" }.joined(separator: " / ") + ")"
            }
            lines.append(line)
        }
        var att = "attention (Table 12: encoder q·kᵀ + attn·v + upsample)  \(Self.fixed(Double(encoderAttention.total) / 1e9, 3)) G"
            + " (\(Self.fixed(Double(encoderAttention.products) / 1e9, 3)) + \(Self.fixed(Double(encoderAttention.upsample) / 1e9, 3)))"
        if let r = ref?.attentionG { att += "  (reference \(Self.fixed(r, 3)) G)" }
        lines.append(att)
        if decoderAttention.total > 0 {
            lines.append("decoder attention (not in Table 12)  \(Self.fixed(Double(decoderAttention.total) / 1e9, 3)) G"
                + " (\(Self.fixed(Double(decoderAttention.products) / 1e9, 3)) + \(Self.fixed(Double(decoderAttention.upsample) / 1e9, 3)))")
        }
        if !elementwise.isEmpty {
            lines.append("uncounted ops (output elements, M):")
            let items = elementwise.sorted { $0.elements > $1.elements }
            lines.append("  " + items.map { "\($0.op) \(Self.fixed(Double($0.elements) / 1e6, 1))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Pretty-printed JSON of the report (and of the reference when there is one).
    public var json: String { Self.encode(FlopReportDocument(report: self, reference: reference)) }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Every field is finite and encodable: encoding cannot fail.
        return String(decoding: try! encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func shape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
    static func giga(_ flops: Int) -> String { fixed(Double(flops) / 1e9, 2) }
    static func fixed(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
    static func signed(_ v: Double) -> String { String(format: "%+.2f", v) }
    static func leftPad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
}

/// The JSON document: the report with its reference beside it.
struct FlopReportDocument: Encodable {
    var report: FlopReport
    var reference: FlopReference?
}
