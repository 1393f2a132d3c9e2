import Foundation
import Testing
@testable import SegData

/// A fresh temporary folder, removed by `cleanup()`.
struct TempDir {
    let url: URL

    init(_ name: String = "segdata") {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ relative: String) -> URL {
        url.appendingPathComponent(relative)
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(at: path(relative), withIntermediateDirectories: true)
    }

    /// A w x h RGB image whose pixels encode their position (so crops and orders can be told apart).
    func writeImage(_ relative: String, width: Int = 4, height: Int = 3, seed: Int = 0) throws {
        try mkdir((relative as NSString).deletingLastPathComponent)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i * 13 + seed * 31) }
        try ImageIO.writePNG(Image(width: width, height: height, channels: 3, pixels: pixels), to: path(relative))
    }

    func writeLabels(_ relative: String, width: Int = 4, height: Int = 3, _ values: [UInt8]) throws {
        try mkdir((relative as NSString).deletingLastPathComponent)
        try ImageIO.writeLabelPNG(LabelMap(width: width, height: height, labels: values), palette: nil, to: path(relative))
    }

    func writeText(_ relative: String, _ text: String) throws {
        try mkdir((relative as NSString).deletingLastPathComponent)
        try text.write(to: path(relative), atomically: true, encoding: .utf8)
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// The error's text, for checking that messages name paths and values.
func errorText(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite("Datasets")
struct DatasetTests {
    private let twelve: [UInt8] = [0, 1, 2, 150, 255, 5, 6, 7, 8, 9, 10, 11]

    private func makeADE(_ dir: TempDir, nested: Bool = true) throws {
        let base = nested ? "ADEChallengeData2016/" : ""
        for (split, folder) in [("train", "training"), ("val", "validation")] {
            for i in [2, 1] {
                try dir.writeImage("\(base)images/\(folder)/ADE_\(split)_\(i).jpg", seed: i)
                try dir.writeLabels("\(base)annotations/\(folder)/ADE_\(split)_\(i).png", twelve)
            }
        }
    }

    @Test func ade20kListsSortedSamplesAndReducesZeroLabel() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try makeADE(dir)
        for root in [dir.url, dir.path("ADEChallengeData2016")] {
            let ds = try SegDataset.ade20k(root: root, split: .train)
            #expect(ds.count == 2 && ds.numClasses == 150 && ds.reduceZeroLabel)
            #expect(ds.samples.map { $0.image.lastPathComponent } == ["ADE_train_1.jpg", "ADE_train_2.jpg"])
            #expect(ds.samples[0].label.lastPathComponent == "ADE_train_1.png")
            let sample = try ds.load(0)
            #expect(sample.image.channels == 3 && sample.image.width == 4 && sample.image.height == 3)
            #expect(sample.label.labels == [255, 0, 1, 149, 255, 4, 5, 6, 7, 8, 9, 10])
        }
        #expect(try SegDataset.ade20k(root: dir.url, split: .val).count == 2)
        #expect(try DatasetLayout.detect(root: dir.url) == .ade20k)
    }

    @Test func ade20kErrorsNameThePaths() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        // Missing folders.
        let missing = errorText { _ = try SegDataset.ade20k(root: dir.url, split: .train) }
        #expect(missing?.contains("images/training") == true)
        // Image without a label.
        try makeADE(dir)
        try dir.writeImage("ADEChallengeData2016/images/training/ADE_train_3.jpg")
        let noLabel = errorText { _ = try SegDataset.ade20k(root: dir.url, split: .train) }
        #expect(noLabel?.contains("ADE_train_3.jpg") == true && noLabel?.contains("annotations/training/ADE_train_3.png") == true)
        // Empty split.
        let empty = TempDir()
        defer { empty.cleanup() }
        try empty.mkdir("images/validation")
        try empty.mkdir("annotations/validation")
        do {
            _ = try SegDataset.ade20k(root: empty.url, split: .val)
            Issue.record("an empty split should throw")
        } catch let error as DatasetError {
            #expect(error.kind == .emptySplit && error.path.hasSuffix("images/validation"))
        }
    }

    @Test func outOfRangeLabelsThrowUnlessMappedToIgnore() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try makeADE(dir)
        var bad = twelve
        bad[6] = 152 // 151 after reduce_zero_label, beyond ADE20K's 150 classes
        try dir.writeLabels("ADEChallengeData2016/annotations/training/ADE_train_1.png", bad)
        let ds = try SegDataset.ade20k(root: dir.url, split: .train)
        do {
            _ = try ds.load(0)
            Issue.record("label 152 should be rejected")
        } catch let error as DatasetError {
            #expect(error.kind == .labelOutOfRange)
            #expect(error.path.hasSuffix("ADE_train_1.png"))
            #expect(error.description.contains("151") && error.description.contains("x: 2, y: 1"))
        }
        let lenient = try SegDataset.ade20k(root: dir.url, split: .train, mapInvalidToIgnore: true)
        #expect(try lenient.load(0).label.labels[6] == 255)
        #expect(try lenient.load(1).label.labels[3] == 149) // valid values untouched
    }

    @Test func sizeMismatchIsAnError() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try makeADE(dir)
        try dir.writeLabels("ADEChallengeData2016/annotations/training/ADE_train_2.png", width: 2, height: 2, [1, 1, 1, 1])
        let ds = try SegDataset.ade20k(root: dir.url, split: .train)
        let text = errorText { _ = try ds.load(1) }
        #expect(text?.contains("ADE_train_2.png") == true && text?.contains("2x2") == true)
    }

    @Test func cityscapesNeedsTrainIdsAndConverts() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let name = "aachen_000000_000019"
        try dir.writeImage("leftImg8bit/train/aachen/\(name)_leftImg8bit.png")
        try dir.writeImage("leftImg8bit/train/bochum/bochum_000000_000313_leftImg8bit.png")
        // labelIds: 7 road -> 0, 26 car -> 13, 33 bicycle -> 18, 0 unlabeled -> 255, 24 person -> 11.
        let ids: [UInt8] = [7, 26, 33, 0, 24, 7, 7, 7, 7, 7, 7, 7]
        try dir.writeLabels("gtFine/train/aachen/\(name)_gtFine_labelIds.png", ids)
        try dir.writeLabels("gtFine/train/bochum/bochum_000000_000313_gtFine_labelIds.png", ids)
        let before = errorText { _ = try SegDataset.cityscapes(root: dir.url, split: .train) }
        #expect(before?.contains("\(name)_leftImg8bit.png") == true && before?.contains("labelTrainIds") == true)

        #expect(try CityscapesConversion.writeTrainIdLabels(root: dir.url) == 2)
        #expect(try CityscapesConversion.writeTrainIdLabels(root: dir.url) == 0) // kept unless overwrite
        let ds = try SegDataset.cityscapes(root: dir.url, split: .train)
        #expect(ds.count == 2 && ds.numClasses == 19 && !ds.reduceZeroLabel)
        #expect(ds.samples[0].label.lastPathComponent == "\(name)_gtFine_labelTrainIds.png")
        #expect(try ds.load(0).label.labels == [0, 13, 18, 255, 11, 0, 0, 0, 0, 0, 0, 0])
        #expect(try DatasetLayout.detect(root: dir.url) == .cityscapes)
        // No val folder.
        let noVal = errorText { _ = try SegDataset.cityscapes(root: dir.url, split: .val) }
        #expect(noVal?.contains("leftImg8bit/val") == true)
    }

    @Test func cocoStuffPrefersTrainIdFiles() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try dir.writeImage("images/val2017/000000000139.jpg")
        try dir.writeImage("images/val2017/000000000285.jpg")
        try dir.writeLabels("annotations/val2017/000000000139_labelTrainIds.png", [0, 1, 2, 170, 255, 5, 6, 7, 8, 9, 10, 11])
        try dir.writeLabels("annotations/val2017/000000000139.png", [180, 180, 180, 180, 180, 180, 180, 180, 180, 180, 180, 180])
        try dir.writeLabels("annotations/val2017/000000000285.png", [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 171])
        let ds = try SegDataset.cocoStuff164k(root: dir.url, split: .val)
        #expect(ds.count == 2 && ds.numClasses == 171)
        #expect(ds.samples.map { $0.label.lastPathComponent } == ["000000000139_labelTrainIds.png", "000000000285.png"])
        #expect(try ds.load(0).label.labels[3] == 170)
        let text = errorText { _ = try ds.load(1) }
        #expect(text?.contains("000000000285.png") == true && text?.contains("171") == true)
        #expect(try DatasetLayout.detect(root: dir.url) == .cocoStuff164k)
        let train = errorText { _ = try SegDataset.cocoStuff164k(root: dir.url, split: .train) }
        #expect(train?.contains("images/train2017") == true)
    }

    @Test func folderLayoutMatchesByStemAndReadsClasses() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try dir.writeText("classes.json", #"{"names": ["bg", "cat", "dog"], "palette": [[0, 0, 0], [255, 0, 0], [0, 255, 0]]}"#)
        try dir.writeImage("images/train/b.jpg")
        try dir.writeImage("images/train/a.png")
        try dir.writeLabels("labels/train/a.png", [0, 1, 2, 255, 0, 0, 0, 0, 0, 0, 0, 0])
        try dir.writeLabels("labels/train/b.png", [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
        try dir.writeLabels("labels/train/orphan.png", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let ds = try SegDataset.folder(root: dir.url, split: .train)
        #expect(ds.classes.names == ["bg", "cat", "dog"] && ds.classes.palette[1] == [255, 0, 0])
        #expect(!ds.reduceZeroLabel)
        #expect(ds.samples.map { $0.label.lastPathComponent } == ["a.png", "b.png"])
        #expect(try ds.load(0).label.labels == [0, 1, 2, 255, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try DatasetLayout.detect(root: dir.url) == .folder)
        #expect(try SegDataset.open(root: dir.url, split: .train).count == 2)

        // Palette optional.
        try dir.writeText("classes.json", #"{"names": ["bg", "cat"]}"#)
        let noPalette = try SegDataset.folder(root: dir.url, split: .train)
        #expect(noPalette.classes.palette == DatasetClasses.defaultPalette(count: 2))
        // Now label 2 is out of range, named with its file.
        let text = errorText { _ = try noPalette.load(1) }
        #expect(text?.contains("labels/train/b.png") == true && text?.contains("label value 2") == true)

        // Image without label.
        try dir.writeImage("images/train/c.png")
        let missing = errorText { _ = try SegDataset.folder(root: dir.url, split: .train) }
        #expect(missing?.contains("images/train/c.png") == true && missing?.contains("labels/train/c.png") == true)
    }

    @Test func folderLayoutRejectsBadClassFiles() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try dir.writeImage("images/val/a.png")
        try dir.writeLabels("labels/val/a.png", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let missing = errorText { _ = try SegDataset.folder(root: dir.url, split: .val) }
        #expect(missing?.contains("classes.json") == true)
        try dir.writeText("classes.json", #"{"names": ["a", "b"], "palette": [[1, 2, 3]]}"#)
        let count = errorText { _ = try SegDataset.folder(root: dir.url, split: .val) }
        #expect(count?.contains("2 names but 1 palette entries") == true)
        try dir.writeText("classes.json", #"{"names": ["a"], "palette": [[1, 2, 300]]}"#)
        let value = errorText { _ = try SegDataset.folder(root: dir.url, split: .val) }
        #expect(value?.contains("palette entry 0") == true)
        try dir.writeText("classes.json", "not json")
        let garbage = errorText { _ = try SegDataset.folder(root: dir.url, split: .val) }
        #expect(garbage?.contains("classes.json") == true)
    }

    @Test func unknownLayoutIsReported() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let text = errorText { _ = try SegDataset.open(root: dir.url, split: .train) }
        #expect(text?.contains(dir.url.path) == true && text?.contains("no known data set layout") == true)
    }
}
