// GitHub-flavoured Markdown tables with aligned columns, readable as plain text too (bench reports).


import Foundation
public struct MarkdownTable: Sendable {
    public enum Alignment: Sendable { case left, right, center }

    public var headers: [String]
    public var alignments: [Alignment]
    public private(set) var rows: [[String]] = []

    /// `alignments` defaults to left for every column.
    public init(headers: [String], alignments: [Alignment]? = nil) {
        precondition(alignments == nil || alignments!.count == headers.count,
                     "MarkdownTable: \(alignments!.count) alignments for \(headers.count) columns")
        self.headers = headers
        self.alignments = alignments ?? Array(repeating: .left, count: headers.count)
    }

    /// Adds a row; missing trailing cells are left empty, extra cells are a programming error.
    public mutating func addRow(_ cells: [String]) {
        precondition(cells.count <= headers.count, "MarkdownTable: \(cells.count) cells for \(headers.count) columns")
        rows.append(cells + Array(repeating: "", count: headers.count - cells.count))
    }

    public func render() -> String {
        let escapedHeaders = headers.map(Self.escape)
        let escapedRows = rows.map { $0.map(Self.escape) }
        // The separator needs at least 3 characters ("---", ":-:").
        let widths = headers.indices.map { col in
            max(3, ([escapedHeaders[col]] + escapedRows.map { $0[col] }).map(\.count).max()!)
        }
        let line = { (cells: [String]) -> String in
            "| " + cells.indices.map { Self.pad(cells[$0], widths[$0], self.alignments[$0]) }.joined(separator: " | ") + " |"
        }
        let separator = "|" + headers.indices.map { col -> String in
            let w = widths[col]
            switch alignments[col] {
            case .left: return " " + String(repeating: "-", count: w) + " "
            case .right: return " " + String(repeating: "-", count: w - 1) + ": "
            case .center: return " :" + String(repeating: "-", count: w - 2) + ": "
            }
        }.joined(separator: "|") + "|"
        return ([line(escapedHeaders), separator] + escapedRows.map(line)).joined(separator: "\n") + "\n"
    }

    static func pad(_ text: String, _ width: Int, _ alignment: Alignment) -> String {
        let gap = max(width - text.count, 0)
        switch alignment {
        case .left: return text + String(repeating: " ", count: gap)
        case .right: return String(repeating: " ", count: gap) + text
        case .center: return String(repeating: " ", count: gap / 2) + text + String(repeating: " ", count: gap - gap / 2)
        }
    }

    /// A `|` inside a cell would end it.
    static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|")
    }
}
