import Foundation

/// Loss / lr / validation history of a run, kept in the work dir (curves.json) and drawn as SVG.
struct Curves: Codable {
    var iterations: [Double] = []
    var loss: [Double] = []
    var lr: [Double] = []
    var evalIterations: [Double] = []
    var mIoU: [Double] = []
    var mAcc: [Double] = []

    static func load(_ dir: URL) -> Curves? {
        try? JSONDecoder().decode(Curves.self, from: Data(contentsOf: dir.appendingPathComponent("curves.json")))
    }

    /// Drops history beyond a resume point.
    mutating func trim(after iteration: Int) {
        let keep = iterations.prefix { $0 <= Double(iteration) }.count
        iterations = Array(iterations.prefix(keep)); loss = Array(loss.prefix(keep)); lr = Array(lr.prefix(keep))
        let keepEval = evalIterations.prefix { $0 <= Double(iteration) }.count
        evalIterations = Array(evalIterations.prefix(keepEval)); mIoU = Array(mIoU.prefix(keepEval)); mAcc = Array(mAcc.prefix(keepEval))
    }

    mutating func add(iteration: Int, loss l: Double, lr r: Double) {
        iterations.append(Double(iteration)); loss.append(l); lr.append(r)
    }

    mutating func add(iteration: Int, mIoU m: Double, mAcc a: Double) {
        evalIterations.append(Double(iteration)); mIoU.append(m); mAcc.append(a)
    }

    func write(_ dir: URL) throws {
        try JSONEncoder().encode(self).writeAtomically(to: dir.appendingPathComponent("curves.json"))
        if !iterations.isEmpty {
            try SVGPlot.trainingCurves(iterations: iterations, loss: smoothed(loss), lr: lr, title: "Training loss (smoothed) and learning rate")
                .write(to: dir.appendingPathComponent("loss.svg"))
        }
        if !evalIterations.isEmpty {
            try SVGPlot.validationCurves(iterations: evalIterations, scores: [("mIoU", mIoU), ("mAcc", mAcc)], title: "Validation")
                .write(to: dir.appendingPathComponent("miou.svg"))
        }
    }

    /// Exponential moving average, so the plotted loss is readable.
    private func smoothed(_ v: [Double], alpha: Double = 0.1) -> [Double] {
        var out: [Double] = []
        var s: Double? = nil
        for x in v {
            s = s.map { $0 * (1 - alpha) + x * alpha } ?? x
            out.append(s!)
        }
        return out
    }
}
