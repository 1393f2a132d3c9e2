import Foundation
import Testing
@testable import SegData

@Suite("Loader")
struct LoaderTests {
    /// A small synthetic set: 6 train and 3 val images of 48x64.
    private func makeSet() throws -> TempDir {
        let dir = TempDir("loader")
        try SynthDataset.generate(to: dir.url, train: 6, val: 3, size: (h: 48, w: 64), seed: 3)
        return dir
    }

    private let pipeline = TrainPipeline.ade20k(crop: 32)

    @Test func batchShapes() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        let loader = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 1, workers: 2)
        for _ in 0..<3 {
            let batch = try loader.next()
            #expect(batch.batchSize == 4 && batch.size == (32, 32))
            #expect(batch.images.count == 4 * 3 * 32 * 32 && batch.labels.count == 4 * 32 * 32)
            #expect(batch.labels.allSatisfy { ($0 >= 0 && $0 < 8) || $0 == 255 })
            #expect(batch.images.allSatisfy { $0.isFinite && abs($0) < 3 })
        }
    }

    @Test func sameBatchesForAnyWorkerCount() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        let one = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 11, workers: 1)
        let three = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 11, workers: 3, prefetch: 3)
        let other = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 12, workers: 2)
        var differs = false
        for _ in 0..<4 {
            let a = try one.next(), b = try three.next(), c = try other.next()
            #expect(a.indices == b.indices && a.epochs == b.epochs)
            #expect(a.images == b.images && a.labels == b.labels)
            if a.indices != c.indices || a.images != c.images { differs = true }
        }
        #expect(differs, "another seed gives other batches")
    }

    @Test func epochsArePermutationsReshuffledFromTheSeed() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        let loader = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 3, seed: 5, workers: 2)
        var indices: [Int] = [], epochs: [Int] = []
        for _ in 0..<6 {
            let b = try loader.next()
            indices += b.indices
            epochs += b.epochs
        }
        #expect(epochs == [Int](repeating: 0, count: 6) + [Int](repeating: 1, count: 6) + [Int](repeating: 2, count: 6))
        for e in 0..<3 {
            #expect(indices[(6 * e)..<(6 * e + 6)].sorted() == Array(0..<6))
        }
        let orders = (0..<3).map { Array(indices[(6 * $0)..<(6 * $0 + 6)]) }
        #expect(Set(orders.map { $0.description }).count > 1, "epochs are reshuffled")
        #expect(SampleOrder.permutation(count: 6, seed: 5, epoch: 1) == orders[1])
    }

    @Test func startBatchResumesTheSameStream() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        let fresh = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 2, workers: 2)
        var batches: [Batch] = []
        for _ in 0..<3 { batches.append(try fresh.next()) }
        let resumed = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 4, seed: 2, workers: 1, startBatch: 2)
        let b = try resumed.next()
        #expect(b.indices == batches[2].indices && b.epochs == batches[2].epochs)
        #expect(b.images == batches[2].images && b.labels == batches[2].labels)
    }

    @Test func workerErrorsReachTheConsumerNamingTheFile() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let broken = dir.path("ADEChallengeData2016/images/training/synth_train_00004.png")
        try Data("not an image".utf8).write(to: broken)
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        let loader = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 6, seed: 1, workers: 3)
        let first = errorText { _ = try loader.next() }
        #expect(first?.contains("synth_train_00004.png") == true)
        let again = errorText { _ = try loader.next() }
        #expect(again == first)
    }

    @Test func evaluationIsOneOrderedPassAtOriginalLabelSize() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let ds = try SegDataset.synth(root: dir.url, split: .val)
        // Short side 32, long side at most 128, multiples of 32: 48x64 -> 32x43 -> 32x64.
        let test = TestPipeline(resize: AlignResize(scale: (128, 32), sizeDivisor: 32))
        for workers in [1, 2] {
            let loader = EvalLoader(dataset: ds, pipeline: test, workers: workers)
            var seen: [Int] = []
            while let sample = try loader.next() {
                seen.append(sample.index)
                #expect(sample.size == (32, 64) && sample.image.channels == 3)
                #expect(sample.originalSize == (48, 64) && sample.originalImage.width == 64)
                #expect(sample.label == (try ds.load(sample.index).label))
            }
            #expect(seen == [0, 1, 2])
            #expect(try loader.next() == nil)
        }
    }

    @Test func evaluationErrorsNameTheFile() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: dir.path("ADEChallengeData2016/annotations/validation/synth_val_00001.png"))
        let ds = try SegDataset.synth(root: dir.url, split: .val)
        let loader = EvalLoader(dataset: ds, pipeline: .ade20k(), workers: 2)
        #expect(try loader.next()?.index == 0)
        let text = errorText { _ = try loader.next() }
        #expect(text?.contains("synth_val_00001.png") == true)
    }

    @Test func rejectsBadArguments() throws {
        let dir = try makeSet()
        defer { dir.cleanup() }
        let ds = try SegDataset.synth(root: dir.url, split: .train)
        #expect(throws: DatasetError.self) {
            _ = try BatchLoader(dataset: ds, pipeline: pipeline, batchSize: 0, seed: 1, workers: 1)
        }
    }
}
