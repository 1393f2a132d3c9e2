import Foundation
import Testing
import Torch
import TorchIO
import SegModels
@testable import SegEngine

@Suite("Benchmark", .serialized)
struct BenchTests {
    @Test("median, min, max and p90 as numpy computes them")
    func statistics() {
        let s = LatencyStats(samplesMs: [10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
        #expect(s.medianMs == 5.5 && s.minMs == 1 && s.maxMs == 10)
        #expect(abs(s.p90Ms - 9.1) < 1e-12)
        let one = LatencyStats(samplesMs: [3])
        #expect(one.medianMs == 3 && one.p90Ms == 3)
    }

    @Test("the drift between the halves of a timing window, and the report's note on unsteady cells")
    func halvesDrift() throws {
        // First half median 100, second 125: 25% apart, whichever half is slower; under 4 calls there is none.
        #expect(LatencyStats(samplesMs: [90, 100, 110, 120, 125, 130]).halvesDrift == 0.25)
        #expect(LatencyStats(samplesMs: [120, 125, 130, 90, 100, 110]).halvesDrift == 0.25)
        #expect(LatencyStats(samplesMs: [10, 11, 12]).halvesDrift == nil)
        func result(_ samples: [Double]) -> BenchResult {
            BenchResult(model: "lrformer-t", height: 512, width: 512, batch: 1, device: "cpu", precision: .fp32, train: false,
                        mode: "inference", threads: 2, parameters: 1, warmup: 1, latency: LatencyStats(samplesMs: samples),
                        imagesPerSecond: 1, peakMemoryBytes: nil, memoryMethod: .unavailable, official: nil)
        }
        let steady = BenchReport(results: [result([100, 102, 101, 103, 102, 101])])
        #expect(steady.unsteadyNote == nil && !steady.markdown.contains("Unsteady"))
        let moved = BenchReport(results: [result([100, 101, 100, 112, 113, 112])])
        #expect(moved.markdown.contains("Unsteady timings") && moved.markdown.contains("lrformer-t 512x512 12%"), "\(moved.markdown)")
        #expect(moved.json.contains("\"halvesDrift\" : 0.12"), "\(moved.json)")
    }

    @Test("official baselines: the checked-in figures of cpu-baselines.md and the ratios")
    func baselines() throws {
        let t = try #require(ModelRegistry.officialTiming(model: "lrformer-t", height: 512, width: 512, batch: 1, train: false,
                                                    dtype: .float32))
        #expect(t.medianMs == 381 && t.peakIncreaseMiB == 337)
        let train = try #require(ModelRegistry.officialTiming(model: "lrformer-t", height: 512, width: 512, batch: 2, train: true,
                                                        dtype: .float32))
        #expect(train.medianMs == 4270)
        #expect(ModelRegistry.officialTiming(model: "lrformer-s", height: 512, width: 512, batch: 1, train: false, dtype: .bfloat16,
                                       source: .cpuAnchors)?.medianMs == 501)
        #expect(ModelRegistry.officialTiming(model: "lrformer-t", height: 640, width: 640, batch: 1, train: false, dtype: .float32) == nil)

        let result = BenchResult(model: "lrformer-t", height: 512, width: 512, batch: 1, device: "cpu", precision: .fp32, train: false,
                                 mode: "inference", threads: 2, parameters: 1, warmup: 1, latency: LatencyStats(samplesMs: [190.5]),
                                 imagesPerSecond: 1000 / 190.5, peakMemoryBytes: 337 * 1_048_576 / 2,
                                 memoryMethod: .rssPeakAfterReset, official: t)
        #expect(result.latencyRatio == 0.5 && result.memoryRatio == 0.5)
        #expect(BenchReport(results: [result]).markdown.contains("0.50x"))
    }

    @Test("options a user can get wrong are thrown errors")
    func validation() {
        let bad: [BenchOptions] = [
            BenchOptions(models: [], sizes: [Size2D.square(64)]),
            BenchOptions(models: ["lrformer-tiny"], sizes: [Size2D.square(16)]),
            BenchOptions(models: ["lrformer-tiny"], sizes: [Size2D.square(64)], repeats: 0),
            BenchOptions(models: ["lrformer-tiny"], sizes: [Size2D.square(64)], batch: 0),
        ]
        var negativeTime = BenchOptions(models: ["lrformer-tiny"], sizes: [Size2D.square(64)])
        negativeTime.minTimeSeconds = -1
        var endlessTime = negativeTime
        endlessTime.minTimeSeconds = .infinity
        for options in bad + [negativeTime, endlessTime] { #expect(throws: BenchmarkError.self) { try Benchmark.run(options) } }
        #expect(throws: ModelError.self) { try Benchmark.run(models: ["no-such-model"], sizes: [64], warmup: 0, repeats: 1) }
    }

    @Test("peak memory on the CPU sees a 64 MiB allocation")
    func memoryProbe() throws {
        // The resident set is process-wide: memory that suites running in parallel free during the window offsets
        // the allocation. The best of a few attempts measures the probe, not the neighbours.
        var best = 0
        var method = ""
        for _ in 0..<5 where best < 60 << 20 {
            let window = MemoryProbe.start(device: .cpu)
            let t = Tensor.full([16, 1024, 1024], 1)  // 64 MiB, written
            #expect(t.count == 16 << 20)
            best = max(best, try #require(MemoryProbe.finish(window)))
            method = window.method.rawValue
        }
        #expect(best >= 60 << 20, "\(method): \(best) bytes")
    }

    @Test("end to end on lrformer-tiny: inference at 64 and 96, Markdown, JSON and SVG written")
    func endToEnd() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = BenchOptions(models: ["lrformer-tiny"], sizes: [Size2D.square(64), Size2D.square(96)], warmup: 1,
                                   repeats: 2, outputDirectory: dir)
        let out = try Benchmark.report(options)
        let results = out.report.results
        #expect(results.map { [$0.height, $0.width] } == [[64, 64], [96, 96]])
        for r in results {
            #expect(r.model == "lrformer-tiny" && r.mode == (OneDNN.isAvailable ? "inference (optimized)" : "inference") && r.latency.samplesMs.count == 2)
            #expect(r.latency.minMs > 0 && r.latency.minMs <= r.latency.medianMs && r.latency.medianMs <= r.latency.maxMs)
            #expect(r.imagesPerSecond > 0 && r.official == nil)
            #expect(r.peakMemoryBytes != nil)
        }
        #expect(out.files.map(\.lastPathComponent) == ["bench.md", "bench.json", "bench.svg"])

        let markdown = try String(contentsOf: dir.appendingPathComponent("bench.md"), encoding: .utf8)
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| lrformer-tiny") }
        #expect(rows.count == 2 && rows[0].contains("64x64") && rows[1].contains("96x96"))

        let json = try Data(contentsOf: dir.appendingPathComponent("bench.json"))
        let decoded = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
        #expect(decoded.count == 2)
        #expect((decoded[0]["result"] as? [String: Any])?["model"] as? String == "lrformer-tiny")

        // One line per model in each panel (latency, memory), with a point per size.
        let svg = try String(contentsOf: dir.appendingPathComponent("bench.svg"), encoding: .utf8)
        let lines = svg.components(separatedBy: "<polyline").dropFirst()
        #expect(lines.count == 2)
        for line in lines {
            #expect(line.contains("data-name=\"lrformer-tiny\""))
            let points = line.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
            #expect(points.split(separator: " ").count == 2)
        }
    }

    @Test("a minimum timed window adds calls past --repeats until it is filled; 0 times exactly --repeats")
    func minimumTime() throws {
        var options = BenchOptions(models: ["lrformer-tiny"], sizes: [Size2D.square(64)], warmup: 1, repeats: 2, baselines: nil)
        let exact = try #require(try Benchmark.run(options).first)
        #expect(exact.latency.samplesMs.count == 2)
        options.minTimeSeconds = 0.5
        let windowed = try #require(try Benchmark.run(options).first)
        let timed = windowed.latency.samplesMs.reduce(0, +)
        #expect(timed >= 500)
        // It stops at the first call that fills the window.
        #expect(timed - windowed.latency.samplesMs.last! < 500)
        #expect(windowed.latency.samplesMs.count > 2)
    }

    @Test("a training step runs: forward, loss, backward, AdamW")
    func trainingStep() throws {
        let results = try Benchmark.run(models: ["lrformer-tiny"], sizes: [64], batch: 2, train: true, warmup: 1, repeats: 1)
        let r = try #require(results.first)
        #expect(r.train && r.mode == "train step (AdamW)" && r.batch == 2)
        #expect(r.latency.medianMs > 0 && r.imagesPerSecond > 0)

        // The step really updates the weights.
        let model = try ModelRegistry.segmentation("lrformer-tiny")
        let step = BenchTrainingStep(model: model, loss: .pixelCrossEntropy, input: Tensor.randn([2, 3, 64, 64]))
        let weight = try #require(model.parameters.first)
        let before = try weight.detach().clone().checked.toArray(Float.self)
        step.run()
        #expect(try weight.detach().checked.toArray(Float.self) != before)
        #expect(model.parameters.allSatisfy { $0.grad != nil })
    }
}
