import ArgumentParser
import Foundation
import Torch

/// Flags shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model name (see `swiftseg models`).")
    var model: String

    @Option(name: .long, help: "Number of classes (default: the model's own).")
    var numClasses: Int?

    func validate() throws {
        if let k = numClasses, k <= 0 { throw ValidationError("--num-classes must be positive") }
    }
}

struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "cpu, cuda or cuda:N.")
    var device: String = "cpu"

    func resolve() throws -> Device { try Device.parse(device) }
}

/// An existing file or folder given on the command line.
func existingPath(_ path: String, _ what: String) throws -> URL {
    let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw ValidationError("\(what) not found: \(path)")
    }
    return url
}
