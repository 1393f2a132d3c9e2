import ArgumentParser
import SegModels
import Torch

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List every model with its parameter count.")

    func run() throws {
        print("name".padding(toLength: 18, withPad: " ", startingAt: 0) + "params".leftPadded(14) + "  classes  description")
        for e in ModelZoo.entries {
            let count = try ModelZoo.build(e.name).parameterCount
            print(e.name.padding(toLength: 18, withPad: " ", startingAt: 0) + count.grouped.leftPadded(14)
                  + String(e.defaultClasses).leftPadded(9) + "  " + e.summary)
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
