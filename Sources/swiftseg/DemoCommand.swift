import ArgumentParser
import Foundation
import SegEngine

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "End to end on built-in data: synthesise a dataset, train LRFormer-T, evaluate, predict, plot.")

    @Option(name: .long, help: "Where everything is written.") var workDir: String = "runs/demo"
    @Option(name: .long, help: "Training iterations.") var iters: Int = 600
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.") var device: DeviceChoice = .auto
    @Option(name: .long) var seed: Int = 0

    func validate() throws {
        guard iters > 0 else { throw ValidationError("--iters must be positive") }
    }

    func run() throws {
        var options = Demo.Options(workDir: try prepareOutputFolder(workDir, "--work-dir"))
        options.iterations = iters
        options.device = device.description
        options.seed = seed
        let start = Date()
        let result = try Demo.run(options, logger: cliLogger("demo"))
        print(String(format: "\nDone in %.1f min. Validation mIoU %.2f%%, mAcc %.2f%%, aAcc %.2f%%.",
                     Date().timeIntervalSince(start) / 60, result.metrics.mIoU * 100, result.metrics.mAcc * 100, result.metrics.aAcc * 100))
        for (what, url) in result.files { print("  \(what.padding(toLength: 24, withPad: " ", startingAt: 0)) \(url.path)") }
    }
}
