import Foundation

/// Cityscapes ships `*_gtFine_labelIds.png` (ids 0...33, -1); training uses `*_gtFine_labelTrainIds.png`
/// (19 train ids, 255 = ignore), as cityscapesScripts' `createTrainIdLabelImgs` writes them.
public enum CityscapesConversion {
    /// Writes `<name>_gtFine_labelTrainIds.png` (8-bit gray) beside every `<name>_gtFine_labelIds.png`
    /// under `root/gtFine` (every split and city). Existing outputs are kept unless `overwrite`.
    /// Returns how many files were written. Runs on all cores.
    @discardableResult
    public static func writeTrainIdLabels(root: URL, overwrite: Bool = false) throws -> Int {
        let gtFine = root.appendingPathComponent("gtFine")
        try FileListing.requireDirectory(gtFine, "Cityscapes labels, expected gtFine/{train,val}/<city>/*_gtFine_labelIds.png")
        var inputs: [URL] = []
        for split in try FileListing.subdirectories(in: gtFine) {
            for city in try FileListing.subdirectories(in: split) {
                inputs += try FileListing.files(in: city).filter { $0.lastPathComponent.hasSuffix("_gtFine_labelIds.png") }
            }
        }
        let jobs = inputs.map { ($0, outputURL(for: $0)) }.filter { overwrite || !FileListing.fileExists($0.1) }
        let errors = ErrorBox()
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            do {
                try convert(jobs[i].0, to: jobs[i].1)
            } catch {
                errors.record(error)
            }
        }
        if let error = errors.first { throw error }
        return jobs.count
    }

    /// The train-id file name for a labelIds file.
    public static func outputURL(for labelIds: URL) -> URL {
        let name = labelIds.lastPathComponent.replacingOccurrences(of: "_gtFine_labelIds.png", with: "_gtFine_labelTrainIds.png")
        return labelIds.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Maps one label map through `DatasetClasses.cityscapesLabelIdToTrainId`.
    public static func trainIds(from labelIds: LabelMap) -> LabelMap {
        let table = DatasetClasses.cityscapesLabelIdToTrainId
        return LabelMap(width: labelIds.width, height: labelIds.height, labels: labelIds.labels.map { table[Int($0)] })
    }

    static func convert(_ input: URL, to output: URL) throws {
        try ImageIO.writeLabelPNG(trainIds(from: try ImageIO.readLabelMap(input)), palette: nil, to: output)
    }
}

/// Keeps the first error thrown by concurrent work.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    func record(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }

    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
