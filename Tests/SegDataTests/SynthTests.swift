import Foundation
import Testing
@testable import SegData

@Suite("Synthetic data set")
struct SynthTests {
    @Test func writesTheADELayoutWithClasses() throws {
        let dir = TempDir("synth")
        defer { dir.cleanup() }
        try SynthDataset.generate(to: dir.url, train: 8, val: 3, size: (h: 32, w: 40), seed: 7)
        let images = try FileManager.default.contentsOfDirectory(atPath: dir.path("ADEChallengeData2016/images/training").path)
        let labels = try FileManager.default.contentsOfDirectory(atPath: dir.path("ADEChallengeData2016/annotations/validation").path)
        #expect(images.count == 8 && labels.count == 3)
        #expect(try ClassesFile.read(dir.path(SynthDataset.classesFileName)).classes == SynthDataset.classes)
        #expect(SynthDataset.classes.count == 8)
        #expect(try DatasetLayout.detect(root: dir.url) == .synth)

        let train = try SegDataset.open(root: dir.url, split: .train)
        #expect(train.name == "synthetic" && train.count == 8 && train.reduceZeroLabel && train.classes == SynthDataset.classes)
        var seen = Set<UInt8>()
        for i in 0..<train.count {
            let sample = try train.load(i)
            #expect(sample.image.width == 40 && sample.image.height == 32 && sample.image.channels == 3)
            #expect(sample.label.labels.allSatisfy { $0 < 8 || $0 == 255 })
            seen.formUnion(sample.label.labels)
        }
        #expect(Set(0..<8).isSubset(of: seen), "every class appears across the set")
        #expect(try SegDataset.synth(root: dir.url, split: .val).count == 3)
    }

    @Test func deterministicPerSeed() throws {
        let a = SynthDataset.scene(index: 3, split: .train, size: (h: 48, w: 64), seed: 1)
        let b = SynthDataset.scene(index: 3, split: .train, size: (h: 48, w: 64), seed: 1)
        let c = SynthDataset.scene(index: 3, split: .train, size: (h: 48, w: 64), seed: 2)
        let d = SynthDataset.scene(index: 3, split: .val, size: (h: 48, w: 64), seed: 1)
        #expect(a.image == b.image && a.annotation == b.annotation)
        #expect(a.image != c.image && a.image != d.image)

        let one = TempDir("synth"), two = TempDir("synth")
        defer { one.cleanup(); two.cleanup() }
        try SynthDataset.generate(to: one.url, train: 3, val: 1, size: (h: 24, w: 24), seed: 9)
        try SynthDataset.generate(to: two.url, train: 3, val: 1, size: (h: 24, w: 24), seed: 9)
        for file in ["images/training/synth_train_00002.png", "annotations/validation/synth_val_00000.png"] {
            let x = try Data(contentsOf: one.path("ADEChallengeData2016/" + file))
            let y = try Data(contentsOf: two.path("ADEChallengeData2016/" + file))
            #expect(x == y)
        }
    }

    @Test func scenesHaveStructure() {
        // Annotation values: 0 (clutter) to 8; sky (1) on top, ground (2) at the bottom somewhere.
        var classCounts = [Int](repeating: 0, count: 9)
        for i in 0..<12 {
            let scene = SynthDataset.scene(index: i, split: .train, size: (h: 64, w: 64), seed: 5)
            #expect(scene.annotation.labels.allSatisfy { $0 <= 8 })
            for v in scene.annotation.labels { classCounts[Int(v)] += 1 }
            // Several distinct values per scene and several distinct colours per class region.
            #expect(Set(scene.annotation.labels).count >= 3)
            #expect(Set(stride(from: 0, to: scene.image.pixels.count, by: 3).map { scene.image.pixels[$0] }).count > 20)
        }
        #expect(classCounts[1...].allSatisfy { $0 > 0 })
    }

    @Test("A synthetic set replaces an earlier one wholly, and is refused in a folder holding anything else")
    func replacesOnlyAnEarlierSet() throws {
        let dir = TempDir("synth")
        defer { dir.cleanup() }
        try SynthDataset.generate(to: dir.url, train: 5, val: 2, size: (h: 16, w: 16), seed: 1)
        try SynthDataset.generate(to: dir.url, train: 2, val: 1, size: (h: 16, w: 16), seed: 1)
        #expect(try SegDataset.open(root: dir.url, split: .train).count == 2)
        #expect(try SegDataset.open(root: dir.url, split: .val).count == 1)

        // A real data set's root (or any other content) stays as it was.
        let other = TempDir("synth-foreign")
        defer { other.cleanup() }
        let image = other.path("ADEChallengeData2016/images/training/ADE_train_00000001.jpg")
        try FileManager.default.createDirectory(at: image.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("jpeg".utf8).write(to: image)
        let error = #expect(throws: DatasetError.self) {
            try SynthDataset.generate(to: other.url, train: 1, val: 1, size: (h: 16, w: 16), seed: 1)
        }
        #expect("\(String(describing: error))".contains("not empty and holds no synthetic set (ADEChallengeData2016)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: other.url.path).sorted() == ["ADEChallengeData2016"])
        #expect(!FileManager.default.fileExists(atPath: other.path(SynthDataset.classesFileName).path))
    }

    @Test func rejectsInvalidArguments() {
        let dir = TempDir("synth")
        defer { dir.cleanup() }
        #expect(throws: DatasetError.self) {
            try SynthDataset.generate(to: dir.url, train: -1, val: 0, size: (h: 8, w: 8), seed: 0)
        }
    }
}
