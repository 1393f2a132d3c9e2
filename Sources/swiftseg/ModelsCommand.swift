import ArgumentParser
import SegModels
import Torch

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List every model with its parameter count.")

    @Option(name: .long, help: "Only this family (e.g. the prefix of its model names).") var family: String?
    @Flag(name: .long, help: "Also each family's input sizes, official training recipe and test protocol per dataset, with sources.")
    var details = false

    func validate() throws {
        if let family, !ModelRegistry.families.contains(where: { $0.name == family.lowercased() }) {
            throw ValidationError("unknown family '\(family)'; families: " + ModelRegistry.families.map(\.name).joined(separator: ", "))
        }
    }

    func run() throws {
        let width = ModelRegistry.names.map(\.count).max()! + 2
        for family in ModelRegistry.families where self.family == nil || family.name == self.family!.lowercased() {
            print("\(family.title): \(family.reference)")
            print("  " + "name".padding(toLength: width, withPad: " ", startingAt: 0) + "params".leftPadded(14) + "  classes  description")
            for v in family.variants {
                let count = try ModelRegistry.build(v.name).parameterCount
                let classes = v.kind == .backbone ? "-" : String(v.defaultClasses)
                print("  " + v.name.padding(toLength: width, withPad: " ", startingAt: 0) + count.grouped.leftPadded(14)
                      + classes.leftPadded(9) + "  " + v.summary)
            }
            if details { printDetails(family) }
            print("")
        }
    }

    /// Input sizes, then per dataset the recipe and the test protocol of the family's first segmentation model.
    func printDetails(_ family: ModelFamily) {
        let c = family.inputConstraints
        print("  inputs: at least \(c.minimumSide)x\(c.minimumSide)" + (c.multiple.map { ", sides multiples of \($0)" } ?? "")
              + (c.square ? ", square" : "") + "; loss: \(family.loss.name)"
              + (family.syncBatchNormPrefixes.isEmpty ? "" : "; SyncBN: \(family.syncBatchNormPrefixes.joined(separator: ", "))"))
        guard let model = family.variants.first(where: { $0.kind == .segmentation }) else { return }
        for dataset in BenchmarkDataset.allCases {
            let r = family.recipe(dataset, model.name), p = family.testProtocol(dataset, model.name).value
            let rules = r.value.paramRules.sorted { $0.key < $1.key }.map { "\($0.key): lr x\($0.value.lrMult), decay x\($0.value.decayMult)" }
            print("  \(dataset.rawValue) (\(model.name)):")
            let shown = rules.count > 6 ? rules.prefix(6).joined(separator: "; ") + "; and \(rules.count - 6) more" : rules.joined(separator: "; ")
            print("    train: \(r.value.optimizer.rawValue) lr \(r.value.lr) wd \(r.value.weightDecay)" + (rules.isEmpty ? "" : " [\(shown)]")
                  + (r.value.gradClipMaxNorm.map { ", clip \($0)" } ?? "") + ", \(r.value.iterations) iterations, batch \(r.value.batchSize), crop \(r.value.cropSize)"
                  + ", \(r.value.policy.rawValue) (power \(r.value.power), warm-up \(r.value.warmupIters))")
            print("      from \(r.source)")
            print("    test: " + (p.mode == .slide ? "slide \(p.slideCrop) every \(p.slideStride)" : "whole")
                  + ", resize into \(p.scale)" + (p.sizeDivisor.map { " to /\($0)" } ?? " (no rounding)")
                  + ", TTA \(p.tta.rule.rawValue) ratios \(p.tta.ratios)")
            print("      from \(family.testProtocol(dataset, model.name).source)")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension Int {
    /// 13264894 -> "13,264,894"
    var grouped: String {
        let s = String(abs(self))
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return self < 0 ? "-" + out : out
    }
}
