import ArgumentParser
import SegModels
import Torch

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List every model with its parameter count.")

    func run() throws {
        let width = ModelRegistry.names.map(\.count).max()! + 2
        for family in ModelRegistry.families {
            print("\(family.title): \(family.reference)")
            print("  " + "name".padding(toLength: width, withPad: " ", startingAt: 0) + "params".leftPadded(14) + "  classes  description")
            for v in family.variants {
                let count = try ModelRegistry.build(v.name).parameterCount
                let classes = v.kind == .backbone ? "-" : String(v.defaultClasses)
                print("  " + v.name.padding(toLength: width, withPad: " ", startingAt: 0) + count.grouped.leftPadded(14)
                      + classes.leftPadded(9) + "  " + v.summary)
            }
            print("")
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
