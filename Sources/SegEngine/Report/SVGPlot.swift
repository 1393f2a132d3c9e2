// Standalone SVG line charts: one or more panels stacked vertically over a shared x axis, each with its
// own y axis, a legend and one polyline per series. Written by hand (no dependency), viewable in any browser.

import Foundation

public struct PlotSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]

    public init(name: String, x: [Double], y: [Double]) {
        precondition(x.count == y.count, "PlotSeries \(name): \(x.count) x values for \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
    }

    /// The points that can be drawn (non-finite values, e.g. a NaN loss, are skipped).
    public var finitePoints: [(x: Double, y: Double)] {
        zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }.map { (x: $0.0, y: $0.1) }
    }
}

public struct PlotPanel: Sendable {
    public var yLabel: String
    public var series: [PlotSeries]
    /// Include 0 in the y range (losses, latencies); off for curves that live far from 0.
    public var yIncludesZero: Bool

    public init(yLabel: String, series: [PlotSeries], yIncludesZero: Bool = false) {
        self.yLabel = yLabel
        self.series = series
        self.yIncludesZero = yIncludesZero
    }
}

public struct SVGPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var panels: [PlotPanel]
    /// Custom x ticks (value, label), e.g. resolutions "512x512"; nice numbers when nil.
    public var xTicks: [(value: Double, label: String)]?
    public var width: Double = 760
    public var panelHeight: Double = 280
    /// Draw a dot at each point; by default only for short series (benchmarks), not for training curves.
    public var markers: Bool?

    public init(title: String, xLabel: String, panels: [PlotPanel], xTicks: [(value: Double, label: String)]? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.panels = panels
        self.xTicks = xTicks
    }

    /// matplotlib's tab10 colours, in order.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let margin = (left: 78.0, right: 40.0, top: 44.0, gap: 26.0, bottom: 52.0)

    public var height: Double {
        Self.margin.top + Double(panels.count) * panelHeight + Double(max(panels.count - 1, 0)) * Self.margin.gap
            + Self.margin.bottom
    }

    public func write(to url: URL) throws {
        try Data(render().utf8).writeAtomically(to: url)
    }

    /// The complete SVG document.
    public func render() -> String {
        let m = Self.margin
        let plotWidth = width - m.left - m.right
        let xs: [Double] = panels.flatMap { $0.series.flatMap { $0.finitePoints.map(\.x) } } + (xTicks?.map(\.value) ?? [])
        let xScale = NiceScale(minValue: xs.min() ?? 0, maxValue: xs.max() ?? 1, maxTicks: 8)
        // With custom ticks the data range is used with a 5% margin (no rounding out to nice numbers), so that
        // the end labels stay readable.
        var xLo = xScale.lower, xHi = xScale.upper
        if xTicks != nil {
            xLo = xs.min() ?? 0
            xHi = xs.max() ?? 1
            if xHi == xLo { xHi = xLo + 1 }
            let pad = (xHi - xLo) * 0.05
            xLo -= pad
            xHi += pad
        }
        let px = { (x: Double) -> Double in m.left + (x - xLo) / (xHi - xLo) * plotWidth }

        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.f(width))" height="\(Self.f(height))" \
        viewBox="0 0 \(Self.f(width)) \(Self.f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Self.f(width / 2))" y="26" text-anchor="middle" font-size="16" font-weight="bold">\(Self.escape(title))</text>

        """
        for (index, panel) in panels.enumerated() {
            let top = m.top + Double(index) * (panelHeight + m.gap)
            svg += renderPanel(panel, top: top, plotWidth: plotWidth, px: px,
                               xTickValues: xTicks?.map(\.value) ?? xScale.ticks.filter { $0 >= xLo && $0 <= xHi },
                               xTickLabel: { value in
                                   xTicks?.first { $0.value == value }?.label ?? xScale.label(value)
                               },
                               showXLabels: index == panels.count - 1)
        }
        let bottom = height - 12
        svg += "<text x=\"\(Self.f(m.left + plotWidth / 2))\" y=\"\(Self.f(bottom))\" text-anchor=\"middle\">"
            + "\(Self.escape(xLabel))</text>\n</svg>\n"
        return svg
    }

    private func renderPanel(_ panel: PlotPanel, top: Double, plotWidth: Double, px: (Double) -> Double,
                             xTickValues: [Double], xTickLabel: (Double) -> String, showXLabels: Bool) -> String {
        let m = Self.margin
        let ys: [Double] = panel.series.flatMap { $0.finitePoints.map(\.y) } + (panel.yIncludesZero ? [0] : [])
        let yScale = NiceScale(minValue: ys.min() ?? 0, maxValue: ys.max() ?? 1, maxTicks: 6)
        let py = { (y: Double) -> Double in
            top + self.panelHeight - (y - yScale.lower) / (yScale.upper - yScale.lower) * self.panelHeight
        }
        let left = m.left, right = m.left + plotWidth, bottom = top + panelHeight
        var s = "<g class=\"panel\">\n"
        // Grid and y ticks.
        for value in yScale.ticks {
            let y = Self.f(py(value))
            s += "<line x1=\"\(Self.f(left))\" y1=\"\(y)\" x2=\"\(Self.f(right))\" y2=\"\(y)\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(Self.f(left - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">"
                + "\(Self.escape(yScale.label(value)))</text>\n"
        }
        for value in xTickValues {
            let x = Self.f(px(value))
            s += "<line x1=\"\(x)\" y1=\"\(Self.f(top))\" x2=\"\(x)\" y2=\"\(Self.f(bottom))\" stroke=\"#e5e5e5\"/>\n"
            if showXLabels {
                s += "<text x=\"\(x)\" y=\"\(Self.f(bottom + 16))\" text-anchor=\"middle\">"
                    + "\(Self.escape(xTickLabel(value)))</text>\n"
            }
        }
        s += "<rect x=\"\(Self.f(left))\" y=\"\(Self.f(top))\" width=\"\(Self.f(plotWidth))\" "
            + "height=\"\(Self.f(panelHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        // The y label, rotated along the axis.
        let labelX = Self.f(18), labelY = Self.f(top + panelHeight / 2)
        s += "<text x=\"\(labelX)\" y=\"\(labelY)\" text-anchor=\"middle\" transform=\"rotate(-90 \(labelX) \(labelY))\">"
            + "\(Self.escape(panel.yLabel))</text>\n"
        // One polyline per series.
        for (k, series) in panel.series.enumerated() {
            let color = Self.palette[k % Self.palette.count]
            let points = series.finitePoints
            let coords = points.map { "\(Self.f(px($0.x))),\(Self.f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline class=\"series\" data-name=\"\(Self.escape(series.name))\" fill=\"none\" stroke=\"\(color)\" "
                + "stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"\(coords)\"/>\n"
            if markers ?? (points.count <= 40) {
                for p in points {
                    s += "<circle cx=\"\(Self.f(px(p.x)))\" cy=\"\(Self.f(py(p.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
                }
            }
        }
        let drawn = panel.series.flatMap { $0.finitePoints.map { (px($0.x), py($0.y)) } }
        s += legend(panel.series.map(\.name), left: left, right: right, top: top, avoiding: drawn)
        return s + "</g>\n"
    }

    /// Legend box in the top-right corner of the panel, or the top-left one when fewer points fall there.
    private func legend(_ names: [String], left: Double, right: Double, top: Double,
                        avoiding points: [(Double, Double)]) -> String {
        guard !names.isEmpty else { return "" }
        let boxWidth = Double(names.map(\.count).max()!) * 7 + 40, rowHeight = 16.0
        let boxHeight = Double(names.count) * rowHeight + 8
        let y = top + 8
        let covered = { (x: Double) in
            points.filter { $0.0 >= x - 4 && $0.0 <= x + boxWidth + 4 && $0.1 >= y - 4 && $0.1 <= y + boxHeight + 4 }.count
        }
        let rightX = right - boxWidth - 8, leftX = left + 8
        let x = covered(leftX) < covered(rightX) ? leftX : rightX
        var s = "<g class=\"legend\">\n<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" width=\"\(Self.f(boxWidth))\" "
            + "height=\"\(Self.f(boxHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n"
        for (k, name) in names.enumerated() {
            let rowY = y + 4 + rowHeight * (Double(k) + 0.5)
            s += "<line x1=\"\(Self.f(x + 6))\" y1=\"\(Self.f(rowY))\" x2=\"\(Self.f(x + 26))\" y2=\"\(Self.f(rowY))\" "
                + "stroke=\"\(Self.palette[k % Self.palette.count])\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(Self.f(x + 32))\" y=\"\(Self.f(rowY))\" dominant-baseline=\"middle\">\(Self.escape(name))</text>\n"
        }
        return s + "</g>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}
