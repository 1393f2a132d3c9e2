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
            // The manifests' layout: state_dict entries as [key, shape, dtype].
            struct Entry: Encodable {
                var key: String, shape: [Int], dtype: String
                func encode(to encoder: Encoder) throws {
                    var c = encoder.unkeyedContainer()
                    try c.encode(key)
                    try c.encode(shape)
                    try c.encode(dtype)
                }
            }
            struct Document: Encodable {
                var model: String
                var params_total: Int
                var num_state_dict_entries: Int
                var state_dict: [Entry]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let document = Document(model: options.model, params_total: model.parameterCount, num_state_dict_entries: entries.count,
                                    state_dict: entries.map { Entry(key: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.description) })
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
        } else {
            let width = entries.map { $0.0.count }.max() ?? 10
            for (key, t) in entries {
                print(key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "\(t.shape)".padding(toLength: 22, withPad: " ", startingAt: 0) + t.dtype.description)
            }
            print("\(entries.count) entries, \(model.parameterCount.grouped) parameters")
        }
    }
}
