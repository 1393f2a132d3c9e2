import Foundation
import Testing
@testable import SegEngine

/// A strict little XML reader for the tests (no libxml2 dependency in the test bundle): one root element,
/// matched tags, quoted attributes, only the five predefined entities, no raw `<` or `&` in text.
private struct XMLElement {
    var name: String
    var attributes: [String: String]
    var children: [XMLElement]

    func all(_ name: String) -> [XMLElement] {
        (self.name == name ? [self] : []) + children.flatMap { $0.all(name) }
    }
}

private struct XMLReadError: Error, CustomStringConvertible {
    var description: String
}

private func parseXML(_ text: String) throws -> XMLElement {
    let s = Array(text.unicodeScalars)
    var i = 0
    func fail(_ m: String) -> XMLReadError { XMLReadError(description: "\(m) at offset \(i)") }
    func skipSpace() { while i < s.count, s[i].properties.isWhitespace { i += 1 } }
    func starts(_ p: String) -> Bool {
        let p = Array(p.unicodeScalars)
        return i + p.count <= s.count && Array(s[i..<i + p.count]) == p
    }
    func name() throws -> String {
        let start = i
        while i < s.count, s[i].properties.isAlphabetic || "0123456789-_:.".unicodeScalars.contains(s[i]) { i += 1 }
        guard i > start else { throw fail("expected a name") }
        return String(String.UnicodeScalarView(s[start..<i]))
    }
    func decodeText(_ raw: ArraySlice<Unicode.Scalar>) throws -> String {
        var out = ""
        var k = raw.startIndex
        while k < raw.endIndex {
            if raw[k] == "<" { throw fail("raw < in text") }
            if raw[k] == "&" {
                guard let semi = raw[k...].firstIndex(of: ";") else { throw fail("unterminated entity") }
                let entity = String(String.UnicodeScalarView(raw[(k + 1)..<semi]))
                guard let ch = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"][entity] else {
                    throw fail("unknown entity &\(entity);")
                }
                out += ch
                k = semi + 1
            } else {
                out.unicodeScalars.append(raw[k])
                k += 1
            }
        }
        return out
    }
    func element() throws -> XMLElement {
        guard starts("<") else { throw fail("expected <") }
        i += 1
        var e = XMLElement(name: try name(), attributes: [:], children: [])
        while true {
            skipSpace()
            if starts("/>") { i += 2; return e }
            if starts(">") { i += 1; break }
            let key = try name()
            skipSpace()
            guard starts("=") else { throw fail("expected =") }
            i += 1
            skipSpace()
            guard i < s.count, s[i] == "\"" || s[i] == "'" else { throw fail("unquoted attribute") }
            let quote = s[i]
            i += 1
            let start = i
            while i < s.count, s[i] != quote { i += 1 }
            guard i < s.count else { throw fail("unterminated attribute") }
            guard e.attributes[key] == nil else { throw fail("duplicate attribute \(key)") }
            e.attributes[key] = try decodeText(s[start..<i])
            i += 1
        }
        while true {
            let start = i
            while i < s.count, s[i] != "<" { i += 1 }
            _ = try decodeText(s[start..<i])
            guard i < s.count else { throw fail("unclosed <\(e.name)>") }
            if starts("</") {
                i += 2
                guard try name() == e.name else { throw fail("mismatched closing tag for \(e.name)") }
                skipSpace()
                guard starts(">") else { throw fail("expected >") }
                i += 1
                return e
            }
            e.children.append(try element())
        }
    }
    skipSpace()
    if starts("<?xml") {
        while i < s.count, !starts("?>") { i += 1 }
        i += 2
    }
    skipSpace()
    let root = try element()
    skipSpace()
    guard i == s.count else { throw fail("content after the root element") }
    return root
}

private func points(_ polyline: XMLElement) -> [(Double, Double)] {
    (polyline.attributes["points"] ?? "").split(separator: " ").map { pair in
        let xy = pair.split(separator: ",").map { Double($0)! }
        return (xy[0], xy[1])
    }
}

@Suite("Report")
struct ReportTests {
    @Test("training curves: valid XML, one polyline per series, one point per finite value")
    func trainingCurvesSVG() throws {
        let iters: [Double] = [50, 100, 150, 200, 250]
        let plot = SVGPlot.trainingCurves(iterations: iters, loss: [2.5, 1.9, .nan, 1.2, 1.1],
                                          lr: [1e-5, 2e-5, 3e-5, 4e-5, 5e-5], title: "LRFormer-T <ADE20K> & co")
        let svg = plot.render()
        let root = try parseXML(svg)
        #expect(root.name == "svg")
        let lines = root.all("polyline")
        #expect(lines.count == 2)
        #expect(lines.map { $0.attributes["data-name"] } == ["loss", "lr"])
        #expect(points(lines[0]).count == 4)   // the NaN loss is skipped
        #expect(points(lines[1]).count == 5)
        #expect(root.all("text").isEmpty == false)
        #expect(svg.contains("LRFormer-T &lt;ADE20K&gt; &amp; co"))
        // Loss decreases: the drawn y coordinate (downwards in SVG) increases.
        let ys = points(lines[0]).map(\.1)
        #expect(ys == ys.sorted())
        // Points stay inside the plot area horizontally, first and last at the data range ends.
        let xs = points(lines[1]).map(\.0)
        #expect(xs == xs.sorted())
        #expect(xs.allSatisfy { $0 >= SVGPlot.margin.left && $0 <= plot.width - SVGPlot.margin.right })
        // The lr axis labels use exponent notation.
        #expect(svg.contains(">2e-05<") || svg.contains(">2.0e-05<"))
    }

    @Test("benchmark plot: two panels, a line per model in each, resolution tick labels")
    func benchmarkSVG() throws {
        let plot = SVGPlot.benchmark(
            resolutions: [(512, 512), (1024, 1024), (1024, 2048)],
            models: [(name: "lrformer-t", latencyMs: [5, 12, 25], memoryMiB: [300, 900, 1800]),
                     (name: "segformer-b0", latencyMs: [6, 20, .nan], memoryMiB: [350, 1500, .nan])])
        let root = try parseXML(plot.render())
        let lines = root.all("polyline")
        #expect(lines.count == 4)
        #expect(lines.map { points($0).count } == [3, 2, 3, 2])
        let labels = root.all("text").count
        #expect(labels > 10)
        #expect(plot.render().contains(">1024x2048<"))
        #expect(root.all("g").filter { $0.attributes["class"] == "legend" }.count == 2)
        #expect(root.all("circle").count == 10)  // markers on short series
    }

    @Test func niceScale() {
        let s = NiceScale(minValue: 0, maxValue: 0.87, maxTicks: 6)
        #expect(s.lower == 0 && abs(s.upper - 1) < 1e-12 && abs(s.step - 0.2) < 1e-12)
        #expect(s.ticks.map(s.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let lr = NiceScale(minValue: 0, maxValue: 6e-5, maxTicks: 6)
        #expect(lr.ticks.map(lr.label) == ["0", "2e-05", "4e-05", "6e-05"])
        let iters = NiceScale(minValue: 0, maxValue: 160_000, maxTicks: 8)
        #expect(iters.ticks.map(iters.label) == ["0", "20k", "40k", "60k", "80k", "100k", "120k", "140k", "160k"])
        // A value a rounding error below 0 does not open a whole negative tick.
        let lrEnd = NiceScale(minValue: -4e-10, maxValue: 6e-5)
        #expect(lrEnd.lower == 0)
        let flat = NiceScale(minValue: 3, maxValue: 3)
        #expect(flat.lower < 3 && flat.upper > 3)
    }

    @Test("progress line with the speed and ETA of the brief's example")
    func progressLine() {
        var p = ProgressLine(totalIterations: 2000)
        #expect(p.line(iteration: 0, loss: 2.5, lr: 6e-11) == "iter 0/2000  loss 2.5000  lr 6.00e-11")
        p.record(iteration: 0, time: 1000)
        p.record(iteration: 120, time: 1000 + 120 * 602.0 / 1880)
        #expect(p.line(iteration: 120, loss: 1.23449, lr: 6e-5)
                    == "iter 120/2000  loss 1.2345  lr 6.00e-05  3.1 it/s  ETA 10m02s")
    }

    @Test func progressSmoothing() {
        var p = ProgressLine(totalIterations: 100, smoothing: 0.1)
        p.record(iteration: 0, time: 0)
        #expect(p.secondsPerIteration == nil)
        p.record(iteration: 10, time: 5)       // 0.5 s/it
        #expect(p.secondsPerIteration == 0.5)
        p.record(iteration: 20, time: 15)      // 1.0 s/it sample -> 0.1 * 1 + 0.9 * 0.5
        #expect(abs(p.secondsPerIteration! - 0.55) < 1e-12)
        #expect(abs(p.eta(after: 20)! - 80 * 0.55) < 1e-9)
        p.record(iteration: 30, time: 95)      // 8 s/it sample
        #expect(p.line(iteration: 30).contains("s/it"))
    }

    @Test func durations() {
        #expect(ProgressLine.duration(0) == "0s")
        #expect(ProgressLine.duration(42.4) == "42s")
        #expect(ProgressLine.duration(602) == "10m02s")
        #expect(ProgressLine.duration(3 * 3600 + 5 * 60 + 9) == "3h05m09s")
        #expect(ProgressLine.duration(2 * 86400 + 4 * 3600 + 59) == "2d04h")
        #expect(ProgressLine.duration(.infinity) == "?")
    }

    @Test("JSON Lines: one object per line (a newline inside a string stays escaped), keys sorted, appends")
    func jsonLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("logs/scalars.jsonl")
        struct Step: Encodable { var iter: Int; var loss: Double?; var lr: Double?; var name: String? }
        do {
            let log = try JSONLinesLog(url: url)
            try log.append(encoding: Step(iter: 50, loss: 1.25, lr: 6e-5, name: "a \"quoted\"\nname"))
            try log.append(encoding: Step(iter: 100, loss: nil, lr: nil, name: nil))
        }
        struct Eval: Encodable { var iter: Int; var mIoU: Double }
        try JSONLinesLog(url: url).append(encoding: Eval(iter: 100, mIoU: 41.5))
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[3].isEmpty)
        #expect(lines[0].hasPrefix("{\"iter\":50,\"loss\":1.25,\"lr\":6"), "\(lines[0])")
        #expect(lines[1] == "{\"iter\":100}")
        let records = try JSONLinesLog.read(url)
        #expect(records.count == 3)
        #expect((records[0] as? [String: Any])?["name"] as? String == "a \"quoted\"\nname")
        #expect((records[2] as? [String: Any])?["mIoU"] as? Double == 41.5)
        // truncate starts over.
        try JSONLinesLog(url: url, truncate: true).append(encoding: Eval(iter: 1, mIoU: 0))
        #expect(try JSONLinesLog.read(url).count == 1)
    }

    @Test func jsonLinesOpenErrorIsThrown() {
        #expect(throws: ReportError.self) {
            try JSONLinesLog(url: URL(fileURLWithPath: "/proc/definitely/not/here.jsonl"))
        }
    }

    @Test("markdown table: aligned columns and alignment markers")
    func markdownTable() {
        var t = MarkdownTable(headers: ["model", "resolution", "ms"], alignments: [.left, .center, .right])
        t.addRow(["lrformer-t", "512x512", "5.1"])
        t.addRow(["segformer-b0 | fast", "1024x2048", "12.75"])
        t.addRow(["x"])
        let expected = """
        | model                | resolution |    ms |
        | -------------------- | :--------: | ----: |
        | lrformer-t           |  512x512   |   5.1 |
        | segformer-b0 \\| fast | 1024x2048  | 12.75 |
        | x                    |            |       |

        """
        #expect(t.render() == expected)
    }
}
