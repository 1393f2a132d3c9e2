import ArgumentParser
import Foundation
import SegEngine
import SegModels

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "End to end on built-in data: synthesise a dataset, train a model, evaluate, predict, plot.",
        discussion: """
            The default run trains \(ModelRegistry.demoModel) for 300 steps on 96x96 images (under a minute on 2 CPU cores); \
            --full trains \(ModelRegistry.fullDemoModel) for 600 steps on 128x128 images; --model picks another model.
            """)

    @Option(name: .long, help: "Where everything is written (a rerun replaces the demo run there).") var workDir: String = "runs/demo"
    @Flag(name: .long, help: "The longer run: \(ModelRegistry.fullDemoModel), 600 iterations on 128x128 images.") var full = false
    @Option(name: .long, help: "Training iterations (default: the chosen run's).") var iters: Int?
    @Option(name: .long, help: "Image side in pixels (default: the chosen run's).") var size: Int?
    @Option(name: .long, help: "Model to train (default: \(ModelRegistry.demoModel)).") var model: String?
    @Option(name: .long, help: "Images per step (default: the chosen run's).") var batch: Int?
    @Option(name: .long, help: "Peak learning rate (default: the chosen run's).") var lr: Double?
    @Option(name: .long, help: "Training images to synthesise.") var trainImages: Int?
    @Option(name: .long, help: "Validation images to synthesise.") var valImages: Int?
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.") var device: DeviceChoice = .auto
    @Option(name: .long) var seed: Int = 0

    func validate() throws {
        if let iters, iters <= 0 { throw ValidationError("--iters must be positive") }
        if let batch, !(1...256).contains(batch) { throw ValidationError("--batch must be within 1...256") }
        if let lr, !(lr > 0 && lr < 1) { throw ValidationError("--lr must be within (0, 1)") }
        if let size, !(32...1024).contains(size) { throw ValidationError("--size must be within 32...1024") }
        if let trainImages, !(1...100_000).contains(trainImages) { throw ValidationError("--train-images must be within 1...100000") }
        if let valImages, !(1...100_000).contains(valImages) { throw ValidationError("--val-images must be within 1...100000") }
    }

    func run() throws {
        let workURL = try prepareOutputFolder(workDir, "--work-dir")
        var options = full ? Demo.Options.full(workDir: workURL) : Demo.Options(workDir: workURL)
        if let iters { options.iterations = iters }
        if let model { options.model = try ModelRegistry.variant(model).name }
        if let batch { options.batch = batch }
        if let lr { options.lr = lr }
        if let size { options.size = size }
        if let trainImages { options.trainImages = trainImages }
        if let valImages { options.valImages = valImages }
        options.device = device.description
        options.seed = seed
        let start = Date()
        let result = try Demo.run(options, logger: cliLogger("demo"))
        print(String(format: "\nDone in %.1f min. Validation mIoU %.2f%% (chance is about %.1f%%), mAcc %.2f%%, aAcc %.2f%%.",
                     Date().timeIntervalSince(start) / 60, result.metrics.mIoU * 100, 100 / Double(result.metrics.numClasses),
                     result.metrics.mAcc * 100, result.metrics.aAcc * 100))
        print("Pictures and files:")
        for (what, url) in result.files { print("  \(what.padding(toLength: 24, withPad: " ", startingAt: 0)) \(url.path)") }
    }
}
