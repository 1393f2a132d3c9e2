import ArgumentParser
import Foundation
import SegModels
import Logging
import Torch

/// The `swiftseg` command: efficient semantic segmentation on libtorch.
@main
struct SwiftSegCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftseg",
        abstract: "Efficient semantic segmentation: " + ModelRegistry.families.map(\.title).joined(separator: ", ") + ".",
        version: SwiftSegVersion.string,
        subcommands: [DemoCommand.self, InfoCommand.self, ModelsCommand.self, InspectCommand.self, ForwardCommand.self, TrainCommand.self,
                      EvalCommand.self, PredictCommand.self, SynthCommand.self, ConvertCityscapesCommand.self, FlopsCommand.self, BenchCommand.self]
    )
}

extension SwiftSegCommand {
    /// Start-up: tensor memory stays in the process between passes (see `Torch.keepFreedMemory`);
    /// SWIFTSEG_KEEP_FREED_MEMORY=0 keeps glibc's defaults.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)  // progress lines appear at once when piped to a file or `tee`
        LoggingSystem.bootstrap(ConsoleLogHandler.init)
        if ProcessInfo.processInfo.environment["SWIFTSEG_KEEP_FREED_MEMORY"] != "0" { Torch.keepFreedMemory() }
        if ProcessInfo.processInfo.environment["SWIFTSEG_FLUSH_DENORMALS"] != "0" { Torch.flushDenormals() }
        main(nil)
    }
}

enum SwiftSegVersion {
    static let string = "0.1.0"
}
