import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

/// What a hostile but realistic user ran into (the hardening issue), at the library level: prediction that must not
/// destroy inputs, validation data checked before training, slide settings that cannot cover the image, memory-
/// bounded class maps, non-finite weights and absurd sizes. The same through the binary is in CLIHardeningTests.
extension EngineRuns {
    @Suite("Hardening")
    struct HardeningTests {
        // MARK: - 1. predict never overwrites an input, never maps two inputs to one output

        @Test("Inputs with one stem get the extension in their output name; overlays too")
        func clashingStems() throws {
            let dir = URL(fileURLWithPath: "/data/photos"), out = URL(fileURLWithPath: "/data/labels")
            let inputs = ["x.jpg", "x.PNG", "y.png", "z.jpeg"].map { dir.appendingPathComponent($0) }
            let names = try Predictor.outputNames(for: inputs, in: out, overlay: true)
            #expect(names.map(\.label.lastPathComponent) == ["x_jpg.png", "x_png.png", "y.png", "z.png"])
            #expect(names.map { $0.overlay?.lastPathComponent } == ["x_jpg_overlay.png", "x_png_overlay.png", "y_overlay.png", "z_overlay.png"])
            #expect(Set(names.map(\.label)).count == inputs.count)
        }

        @Test("An output folder that holds the inputs, directly or through a symlink, is refused before anything is written")
        func outputOverInputs() throws {
            let dir = try EngineFixtures.temporaryFolder("clobber")
            defer { try? FileManager.default.removeItem(at: dir) }
            let images = dir.appendingPathComponent("images")
            try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
            for (i, name) in ["a", "b"].enumerated() {
                try ImageIO.writePNG(PredictorTests.image(width: 40, height: 30, seed: i), to: images.appendingPathComponent("\(name).png"))
            }
            let link = dir.appendingPathComponent("link")
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: images)
            let before = try ["a.png", "b.png"].map { try Data(contentsOf: images.appendingPathComponent($0)) }
            let inputs = try Predictor.inputs(images)
            for out in [images, link] {
                let error = #expect(throws: EngineError.self) { try Predictor.outputNames(for: inputs, in: out, overlay: false) }
                #expect(error?.message.contains("would replace input images (a.png, b.png)") == true, "\(String(describing: error))")
            }
            // Through a whole run: the check comes before any image is read or written.
            let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: PredictorTests.writeTinyCheckpoint(in: dir))
            let predictor = Predictor(loaded: loaded, settings: EngineFixtures.settings())
            #expect(throws: EngineError.self) { try predictor.run(inputs: inputs, outputDir: images, overlay: false, opacity: 0.5) }
            #expect(try ["a.png", "b.png"].map { try Data(contentsOf: images.appendingPathComponent($0)) } == before)
            // A JPEG's label map may go beside it: `photo.png` is not an input.
            let photo = [dir.appendingPathComponent("photo.jpg")]
            #expect(try Predictor.outputNames(for: photo, in: dir, overlay: false).map(\.label.lastPathComponent) == ["photo.png"])
        }

        // MARK: - 3. validation data checked up front; a failing evaluation keeps the weights

        /// A synthetic set whose first validation annotation `damage` changes, and a config that evaluates every
        /// 2 iterations of 4.
        static func runWithDamagedValidation(_ label: String, damage: (URL) throws -> Void) throws -> (Error?, URL) {
            let dir = try EngineFixtures.temporaryFolder(label)
            let data = try EngineFixtures.synthData(in: dir, train: 4, val: 2)
            try damage(data.appendingPathComponent("ADEChallengeData2016/annotations/validation/synth_val_00000.png"))
            var config = try EngineFixtures.tinyConfig(data: data, iterations: 4)
            config.evalInterval = 2
            let work = dir.appendingPathComponent("run")
            do {
                _ = try Trainer(config: config, options: EngineFixtures.trainerOptions(work), logger: EngineFixtures.silentLogger).run()
                return (nil, dir)
            } catch {
                return (error, dir)
            }
        }

        @Test("A missing or out-of-range validation label stops the run before its first iteration, naming the file")
        func validationCheckedUpFront() throws {
            let cases: [(String, (URL) throws -> Void, String)] = [
                ("missing", { try FileManager.default.removeItem(at: $0) }, "synth_val_00000"),
                // 77 - 1 (reduce_zero_label) is not one of the 8 classes.
                ("range", { try ImageIO.writeLabelPNG(LabelMap(width: 64, height: 64, fill: 77), palette: nil, to: $0) }, "synth_val_00000.png"),
                ("garbage", { try Data("not a png".utf8).write(to: $0) }, "synth_val_00000.png"),
            ]
            for (label, damage, named) in cases {
                let (error, dir) = try Self.runWithDamagedValidation(label, damage: damage)
                defer { try? FileManager.default.removeItem(at: dir) }
                let message = error.map { "\($0)" } ?? "no error"
                #expect(message.contains("validation split") && message.contains(named), "\(label): \(message)")
                #expect(message.contains("--eval-interval 0"), "\(label): \(message)")
                // Nothing was trained: no log line of an iteration, no checkpoint.
                let log = (try? String(contentsOf: dir.appendingPathComponent("run/log.jsonl"), encoding: .utf8)) ?? ""
                #expect(!log.contains("\"loss\""), "\(label): \(log)")
                #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/checkpoints").path))
            }
        }

        @Test("An evaluation that fails mid-run saves the iteration's checkpoint first and says where it is")
        func failingEvaluationKeepsTheCheckpoint() throws {
            let dir = try EngineFixtures.temporaryFolder("evalfail")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try EngineFixtures.synthData(in: dir, train: 4, val: 2)
            let label = data.appendingPathComponent("ADEChallengeData2016/annotations/validation/synth_val_00001.png")
            var config = try EngineFixtures.tinyConfig(data: data, iterations: 4)
            config.evalInterval = 2  // checkpoints only at the end (interval 1000)
            let work = dir.appendingPathComponent("run")
            // The label goes bad after the up-front check, once the first iteration is logged.
            let logger = EngineFixtures.logger { line in
                if line.hasPrefix("iter 1/") { try? Data("gone".utf8).write(to: label) }
            }
            let error = #expect(throws: EngineError.self) {
                try Trainer(config: config, options: EngineFixtures.trainerOptions(work), logger: logger).run()
            }
            let message = error?.message ?? ""
            #expect(message.contains("evaluation at iteration 2 failed") && message.contains("synth_val_00001.png"), "\(message)")
            let checkpoint = work.appendingPathComponent("checkpoints/iter_2")
            #expect(message.contains(checkpoint.path) && message.contains("--resume"), "\(message)")
            #expect(try TrainingCheckpoint(folder: checkpoint).readState().iteration == 2)
            _ = try ModelLoader.load(model: "lrformer-tiny", checkpoint: checkpoint)
        }

        // MARK: - 4. slide stride larger than the window

        @Test("A slide stride larger than the window is refused by the settings, the inference call and the training config")
        func slideStrideLargerThanCrop() throws {
            let settings = EngineFixtures.settings(mode: .slide(crop: .square(64), stride: Size2D(48, 96)))
            let error = #expect(throws: EngineError.self) { try settings.validate() }
            #expect(error?.message.contains("stride") == true, "\(String(describing: error))")

            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: 4)
            model.eval()
            let x = Tensor.randn([1, 3, 96, 160])
            let inference = #expect(throws: EngineError.self) {
                try SegmentationInference.logits(model, x, mode: .slide(crop: .square(64), stride: .square(80)),
                                                 constraints: InputConstraints(minimumSide: 1))
            }
            #expect(inference?.message.contains("no larger than the crop") == true)
            // Windows that overlap or touch cover every pixel: the scores stay finite.
            let covered = try Torch.inferenceMode {
                try SegmentationInference.logits(model, x, mode: .slide(crop: .square(64), stride: .square(64)),
                                                 constraints: InputConstraints(minimumSide: 1))
            }
            #expect(covered.allFinite())

            var config = try EngineFixtures.tinyConfig(data: URL(fileURLWithPath: "/tmp"), iterations: 4)
            config.test.mode = .slide
            config.test.slideCrop = .square(64)
            config.test.slideStride = .square(65)
            #expect(config.problems().contains { $0.hasPrefix("test.slideStride") }, "\(config.problems())")
        }

        // MARK: - 4b. strips thinner than the network's smallest input

        @Test("The smallest runnable size covering a strip: minimum side, multiple, square")
        func smallestRunnableSize() {
            #expect(InputConstraints(minimumSide: 29).smallestRunnableSize(covering: Size2D(1, 512)) == Size2D(29, 512))
            #expect(InputConstraints(minimumSide: 32).smallestRunnableSize(covering: Size2D(40, 3)) == Size2D(40, 32))
            #expect(InputConstraints(minimumSide: 32, multiple: 32, square: true).smallestRunnableSize(covering: Size2D(5, 70)) == Size2D(96, 96))
            #expect(InputConstraints(minimumSide: 32, multiple: 16).smallestRunnableSize(covering: Size2D(64, 64)) == Size2D(64, 64))
        }

        @Test("Whole inference on a strip thinner than the minimum runs zero-padded and returns logits at the strip's size")
        func thinStripWholeInference() throws {
            // A per-pixel model: the padded run, cut back, is the strip itself.
            let strip = Tensor.randn([1, 3, 3, 50])
            let echoed = try SegmentationInference.logits(EchoModel(), strip, mode: .whole, constraints: InputConstraints(minimumSide: 16))
            #expect(echoed.shape == [1, 3, 3, 50] && EvaluatorTests.maxDifference(echoed, strip) == 0)

            // A real one whose minimum is 29: equal to running it on the strip padded by hand with zeros.
            let model = try ModelRegistry.segmentation("segformer-b0", numClasses: 5)
            model.eval()
            let x = Tensor.randn([1, 3, 200, 4])
            let constraints = try ModelRegistry.family(of: "segformer-b0").inputConstraints
            #expect(constraints.problem(with: Size2D(200, 4), model: "segformer-b0") != nil)
            let logits = try Torch.inferenceMode { try SegmentationInference.logits(model, x, mode: .whole, constraints: constraints) }
            #expect(logits.shape == [1, 5, 200, 4])
            let byHand = Torch.inferenceMode {
                model.predictLogits(x.pad([0, constraints.minimumSide - 4, 0, 0])).slice(3, start: 0, end: 4)
            }
            #expect(EvaluatorTests.maxDifference(logits, byHand) < 1e-6)

            // A size that is large enough but off the required multiple is still an error, not padded silently.
            let offGrid = #expect(throws: EngineError.self) {
                try SegmentationInference.logits(EchoModel(), Tensor.randn([1, 3, 40, 70]), mode: .whole,
                                                 constraints: InputConstraints(minimumSide: 32, multiple: 32))
            }
            #expect(offGrid?.message.contains("multiples of 32") == true, "\(String(describing: offGrid))")
        }

        // MARK: - 6. class maps in bounded memory, identical to the plain argmax

        @Test("The chunked argmax equals resize-then-argmax for every chunk size; exact ties go to a top-scoring class")
        func tiledArgmaxEqualsUntiled() throws {
            Torch.manualSeed(11)
            let k = 150
            let size = Size2D(45, 61)
            let logits = Tensor.randn([1, k, 12, 17])
            let expected = SegmentationInference.tiledArgmax(logits, outputSize: size, chunk: k).toArray(Int64.self)
            #expect(expected == SegmentationInference.resize(logits, to: size).argmax(dim: 1).toArray(Int64.self))
            for chunk in [1, 7, 16, 149] {
                let tiled = SegmentationInference.tiledArgmax(logits, outputSize: size, chunk: chunk).toArray(Int64.self)
                #expect(tiled == expected, "chunk \(chunk)")
            }
            // Small integers: many exact ties. libtorch may round one plane's interpolation differently in the last bit
            // depending on the planes resized with it, so the tiled answer is checked to be a top-scoring class.
            let ties = Tensor.randint(0, 3, [1, k, 12, 17]).to(dtype: .float32)
            let scores = SegmentationInference.resize(ties, to: size)  // 1,K,H,W
            let top = scores.max(dim: 1).values.toArray(Float.self)
            let flat = scores.reshape([k, size.height * size.width]).toArray(Float.self)
            for chunk in [1, 7, 16] {
                let tiled = SegmentationInference.tiledArgmax(ties, outputSize: size, chunk: chunk).toArray(Int64.self)
                let worst = tiled.enumerated().map { p, c in top[p] - flat[Int(c) * top.count + p] }.max() ?? 0
                #expect(worst <= 1e-5, "chunk \(chunk): a pixel's class scores \(worst) below the top")
            }
        }

        @Test("Class maps of a 150-class model: default chunking by size, the same labels as one chunk for all classes")
        func classMapMatchesUntiledPrediction() throws {
            #expect(SegmentationInference.classMapChunk(for: Size2D(3000, 4000)) == 2)
            #expect(SegmentationInference.classMapChunk(for: Size2D(1500, 2000)) == 8)
            #expect(SegmentationInference.classMapChunk(for: Size2D(400, 400)) >= 150)
            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: 150)
            model.eval()
            let settings = EngineFixtures.settings(divisor: 32)
            let image = PredictorTests.image(width: 300, height: 230, seed: 5)
            let x = Tensor(image: settings.pipeline.apply(image))
            let size = Size2D(image.height, image.width)
            let maps = try Torch.inferenceMode {
                try [4, 16, 150].map {
                    try SegmentationInference.classMap(model, x, mode: .whole, outputSize: size, constraints: settings.constraints, chunk: $0)
                        .toArray(Int64.self)
                }
            }
            #expect(maps[0].count == 230 * 300)
            #expect(maps[0] == maps[2] && maps[1] == maps[2])
            #expect(Set(maps[2]).count > 1, "a random model should not predict one class everywhere")
        }

        // MARK: - 9. non-finite weights

        @Test("Weights with NaN or infinity are refused, naming the tensors")
        func nonFiniteWeights() throws {
            let dir = try EngineFixtures.temporaryFolder("nanweights")
            defer { try? FileManager.default.removeItem(at: dir) }
            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: 6)
            var weights = try EngineFixtures.hostStateDict(model)
            let key = "decode_head.conv_seg.weight"
            for bad in [Float.nan, .infinity, -.infinity] {
                var values = try #require(weights[key]).floatValues()
                values[3] = bad
                weights[key] = try Tensor(values, shape: try #require(weights[key]).shape).host()
                let url = dir.appendingPathComponent("bad.safetensors")
                try SafeTensors.write(weights, to: url)
                let error = #expect(throws: ModelError.self) { try ModelLoader.load(model: "lrformer-tiny", checkpoint: url) }
                let message = error?.description ?? ""
                #expect(message.contains("non-finite") && message.contains(key) && message.contains("bad.safetensors"), "\(bad): \(message)")
            }
        }

        // MARK: - 5. absurd sizes are refused before anything is allocated

        @Test("Crops, test scales and windows larger than any image, or than memory, are refused by the config and the settings")
        func absurdSizes() throws {
            var config = try EngineFixtures.tinyConfig(data: URL(fileURLWithPath: "/tmp"), iterations: 4)
            config.cropSize = .square(100_000)
            #expect(config.problems().contains { $0.hasPrefix("cropSize:") && $0.contains("larger than the largest image") })
            config.cropSize = .square(64)
            config.batchSize = 1_000_000
            #expect(config.problems().contains { $0.hasPrefix("cropSize:") && $0.contains("more than this machine's") },
                    "\(config.problems())")
            config.batchSize = 2
            config.test.scale = ResizeScale(longSide: 400_000, shortSide: 100_000)
            #expect(config.problems().contains { $0.hasPrefix("test.scale:") })
            config.test.scale = ResizeScale(longSide: 256, shortSide: 64)
            config.augmentation.scale = ResizeScale(longSide: 60_000, shortSide: 30_000)
            #expect(config.problems().contains { $0.hasPrefix("augmentation.scale:") })

            var settings = EngineFixtures.settings()
            settings.test.scale = ResizeScale(longSide: 400_000, shortSide: 100_000)
            #expect(throws: EngineError.self) { try settings.validate() }
            settings = EngineFixtures.settings(mode: .slide(crop: .square(90_000), stride: .square(90_000)))
            #expect(throws: EngineError.self) { try settings.validate() }
            // The official protocols are fine.
            try EvaluationSettings.official(model: "lrformer-t", dataset: .cityscapes).validate()
        }
    }
}
