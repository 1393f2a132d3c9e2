import ArgumentParser
import Foundation
import SegModels
import Torch

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Print every state_dict entry (parameters and buffers) with shape and dtype.")

    @OptionGroup var options: ModelOptions
    @Flag(name: .long, help: "Machine-readable output.") var json = false

    func run() throws {
        let model = try ModelRegistry.build(options.model, numClasses: options.numClasses)
        let entries = model.stateDict()
        if json {
            let list: [[Any]] = entries.map { [$0.0, $0.1.shape, $0.1.dtype.description] }
            let object: [String: Any] = ["model": options.model, "params_total": model.parameterCount,
                                         "num_state_dict_entries": entries.count, "state_dict": list]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let width = entries.map { $0.0.count }.max() ?? 10
            for (key, t) in entries {
                print(key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "\(t.shape)".padding(toLength: 22, withPad: " ", startingAt: 0) + t.dtype.description)
            }
            print("\(entries.count) entries, \(model.parameterCount.grouped) parameters")
        }
    }
}
