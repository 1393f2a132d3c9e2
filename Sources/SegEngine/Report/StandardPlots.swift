// The charts SwiftSeg writes into a work dir or a benchmark report.

import Foundation

extension SVGPlot {
    /// Training loss over iterations, and the learning rate below it when given.
    public static func trainingCurves(iterations: [Double], loss: [Double], lr: [Double]? = nil,
                                      title: String = "Training") -> SVGPlot {
        var panels = [PlotPanel(yLabel: "loss", series: [PlotSeries(name: "loss", x: iterations, y: loss)],
                                yIncludesZero: true)]
        if let lr {
            panels.append(PlotPanel(yLabel: "learning rate", series: [PlotSeries(name: "lr", x: iterations, y: lr)],
                                    yIncludesZero: true))
        }
        return SVGPlot(title: title, xLabel: "iteration", panels: panels)
    }

    /// Validation scores (values in percent) over iterations, e.g. ["mIoU": ..., "mAcc": ...].
    public static func validationCurves(iterations: [Double], scores: [(name: String, values: [Double])],
                                        title: String = "Validation") -> SVGPlot {
        SVGPlot(title: title, xLabel: "iteration",
                panels: [PlotPanel(yLabel: "%", series: scores.map { PlotSeries(name: $0.name, x: iterations, y: $0.values) })])
    }

    /// Latency and peak memory against input resolution, one line per model. `resolutions` are labels such
    /// as "512x512" placed at their pixel count in megapixels; a model's NaN entries (e.g. out of memory) are
    /// left out of its line.
    public static func benchmark(resolutions: [(height: Int, width: Int)],
                                 models: [(name: String, latencyMs: [Double], memoryMiB: [Double])],
                                 title: String = "Latency and memory") -> SVGPlot {
        let xs = resolutions.map { Double($0.height * $0.width) / 1_000_000 }
        let ticks = zip(xs, resolutions).map { (value: $0.0, label: "\($0.1.height)x\($0.1.width)") }
        var plot = SVGPlot(
            title: title, xLabel: "input resolution (placed by megapixels)",
            panels: [
                PlotPanel(yLabel: "latency (ms)", series: models.map { PlotSeries(name: $0.name, x: xs, y: $0.latencyMs) },
                          yIncludesZero: true),
                PlotPanel(yLabel: "peak memory (MiB)", series: models.map { PlotSeries(name: $0.name, x: xs, y: $0.memoryMiB) },
                          yIncludesZero: true),
            ],
            xTicks: ticks)
        plot.markers = true
        return plot
    }
}
