import Foundation
import TorchIO

/// A small procedural data set for tests, demos and smoke-training: scenes with a sky/ground
/// background and textured objects of 8 classes, written in the ADE20K layout.
public enum SynthDataset {
    /// Written beside `ADEChallengeData2016/`; `SegDataset.synth` reads it.
    public static let classesFileName = "synth_classes.json"

    /// The 8 classes (label index = annotation value - 1, after reduce_zero_label).
    public static let classes = DatasetClasses(names: SynthClassStyle.all.map(\.name), palette: SynthClassStyle.all.map(\.palette))

    /// Renders scene `index` of a split: the RGB image and its annotation (0 = other, 1...8 = classes;
    /// not yet reduced). Deterministic in (seed, split, index).
    public static func scene(index: Int, split: DatasetSplit, size: (h: Int, w: Int), seed: UInt64) -> (image: Image, annotation: LabelMap) {
        precondition(size.h > 0 && size.w > 0, "SynthDataset: empty image size")
        // The split takes the place of the epoch so that train and val scenes differ.
        let rng = SplitMix64.forSample(seed: seed, epoch: split == .train ? 0 : 1, index: index)
        let objects = SynthScene.objectClasses
        let featured = objects[index % objects.count]
        let (image, labels) = SynthScene.render(width: size.w, height: size.h, rng: rng, featuredClass: featured)
        return (image, labels)
    }

    /// Writes `train` + `val` scenes of `size` under `dir`:
    /// `ADEChallengeData2016/images/{training,validation}/synth_<split>_<i>.png`, the annotations as
    /// gray PNGs under `ADEChallengeData2016/annotations/...` with the same names, and
    /// `synth_classes.json`. Images are PNG (lossless, so the textures stay as rendered).
    public static func generate(to dir: URL, train: Int, val: Int, size: (h: Int, w: Int), seed: UInt64) throws {
        guard train >= 0, val >= 0, size.h > 0, size.w > 0 else {
            throw DatasetError(.writeFailed, path: dir.path, reason: "invalid synthetic set: train \(train), val \(val), size \(size.h)x\(size.w)")
        }
        if let problem = Image.sizeProblem(height: size.h, width: size.w) {
            throw DatasetError(.writeFailed, path: dir.path, reason: "synthetic images of \(problem)")
        }
        // Scenes render side by side, each holding its pixels, labels and PNG encoding (about 8 bytes a pixel):
        // as many at once as fit in half the memory.
        let sceneBytes = Double(size.h) * Double(size.w) * 8, memory = Double(ProcessInfo.processInfo.physicalMemory)
        let parallel = min(ProcessInfo.processInfo.activeProcessorCount, Int(memory / 2 / sceneBytes))
        guard parallel >= 1 else {
            let reason = String(format: "synthetic images of %dx%d need about %.1f GiB each to render, more than half of this machine's %.1f GiB",
                                size.h, size.w, sceneBytes / 1_073_741_824, memory / 1_073_741_824)
            throw DatasetError(.writeFailed, path: dir.path, reason: reason)
        }
        try clearEarlierSet(in: dir)
        var jobs: [(split: DatasetSplit, index: Int, image: URL, label: URL)] = []
        for (split, count) in [(DatasetSplit.train, train), (.val, val)] {
            let (imageDir, labelDir) = folders(in: dir, split: split)
            for d in [imageDir, labelDir] {
                do {
                    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
                } catch {
                    throw DatasetError(.writeFailed, path: d.path, reason: "cannot create folder: \(FileAccess.reason(error))")
                }
            }
            for i in 0..<count {
                let name = "synth_\(split.rawValue)_" + String(format: "%05d", i) + ".png"
                jobs.append((split, i, imageDir.appendingPathComponent(name), labelDir.appendingPathComponent(name)))
            }
        }
        let errors = ErrorBox()
        let workers = min(parallel, max(jobs.count, 1))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for j in stride(from: worker, to: jobs.count, by: workers) where errors.first == nil {
                let job = jobs[j]
                let rendered = scene(index: job.index, split: job.split, size: size, seed: seed)
                do {
                    try ImageIO.writePNG(rendered.image, to: job.image)
                    try ImageIO.writeLabelPNG(rendered.annotation, palette: nil, to: job.label)
                } catch {
                    errors.record(error)
                }
            }
        }
        if let error = errors.first { throw error }
        try ClassesFile(classes: classes, reduceZeroLabel: true).write(to: dir.appendingPathComponent(classesFileName))
    }

    /// A synthetic set goes into a new or empty folder, or replaces an earlier synthetic set (whose images are removed
    /// first, so that a smaller set keeps none of them). Any other content, a real data set above all, is refused:
    /// the classes file would make its layout read as synthetic.
    static func clearEarlierSet(in dir: URL) throws {
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: dir.path)) ?? []
        guard !entries.isEmpty else { return }
        guard entries.contains(classesFileName) else {
            throw DatasetError(.writeFailed, path: dir.path, reason: "the folder is not empty and holds no synthetic set ("
                + entries.sorted().prefix(3).joined(separator: ", ") + (entries.count > 3 ? ", ..." : "")
                + "): write the synthetic set into a new or empty folder")
        }
        for folder in DatasetSplit.allCases.flatMap({ split -> [URL] in let f = folders(in: dir, split: split); return [f.images, f.labels] }) {
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix("synth_") && name.hasSuffix(".png") {
                do { try fm.removeItem(at: folder.appendingPathComponent(name)) } catch {
                    throw DatasetError(.writeFailed, path: folder.appendingPathComponent(name).path,
                                       reason: "cannot remove the earlier synthetic image: \(FileAccess.reason(error))")
                }
            }
        }
    }

    /// The image and annotation folders of a split, in the ADE20K layout.
    static func folders(in dir: URL, split: DatasetSplit) -> (images: URL, labels: URL) {
        let base = dir.appendingPathComponent("ADEChallengeData2016"), folder = split == .train ? "training" : "validation"
        return (base.appendingPathComponent("images/\(folder)"), base.appendingPathComponent("annotations/\(folder)"))
    }
}
