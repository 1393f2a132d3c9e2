import ArgumentParser
import Foundation
import SegData

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth", abstract: "Write a synthetic segmentation dataset in the ADE20K layout.")

    @Option(name: .long, help: "Output folder.") var out: String
    @Option(name: .long) var train: Int = 200
    @Option(name: .long) var val: Int = 40
    @Option(name: .long, help: "Image size HxW.") var size: String = "256x256"
    @Option(name: .long) var seed: UInt64 = 0

    func validate() throws {
        guard train >= 0, val >= 0 else { throw ValidationError("--train and --val must not be negative") }
        let (h, w) = try parseSize(size)
        if let problem = Image.sizeProblem(height: h, width: w) { throw ValidationError("--size \(size): \(problem)") }
    }

    func run() throws {
        let (h, w) = try parseSize(size)
        let folder = try prepareOutputFolder(out, "--out")
        try SynthDataset.generate(to: folder, train: train, val: val, size: (h, w), seed: seed)
        print("wrote \(train) training and \(val) validation images (\(h)x\(w), \(SynthDataset.classes.count) classes) to \(out)")
    }
}

/// "512", "512x1024" -> (h, w)
func parseSize(_ text: String) throws -> (Int, Int) {
    let parts = text.lowercased().split(separator: "x").map { Int($0) }
    if parts.count == 1, let s = parts[0], s > 0 { return (s, s) }
    if parts.count == 2, let h = parts[0], let w = parts[1], h > 0, w > 0 { return (h, w) }
    throw ValidationError("invalid size '\(text)': expected N or HxW with positive numbers")
}

struct ConvertCityscapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-cityscapes", abstract: "Write *_gtFine_labelTrainIds.png beside every *_gtFine_labelIds.png (19 train ids, 255 ignore).")

    @Option(name: .long, help: "Cityscapes root (with gtFine/).") var root: String
    @Flag(name: .long, help: "Rewrite existing train-id files.") var overwrite = false

    func run() throws {
        let url = try existingPath(root, "Cityscapes root")
        let n = try CityscapesConversion.writeTrainIdLabels(root: url, overwrite: overwrite)
        print("wrote \(n) labelTrainIds files under \(url.path)")
    }
}
