import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

extension EngineRuns {
    /// ModelLoader + Predictor on image files, and the errors a user can run into.
    @Suite("Predictor")
    struct PredictorTests {
        /// A textured RGB image, different at every pixel so that any overlay colour changes something.
        static func image(width: Int, height: Int, seed: Int) -> Image {
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let p = (y * width + x) * 3
                    pixels[p] = UInt8((x * 3 + seed) % 256)
                    pixels[p + 1] = UInt8((y * 5 + seed * 7) % 256)
                    pixels[p + 2] = UInt8((x * y + seed) % 256)
                }
            }
            return Image(width: width, height: height, channels: 3, pixels: pixels)
        }

        /// A 6-class `lrformer-tiny` written as a bare safetensors state_dict.
        static func writeTinyCheckpoint(in dir: URL, classes: Int = 6) throws -> URL {
            let model = try ModelRegistry.segmentation("lrformer-tiny", numClasses: classes)
            let url = dir.appendingPathComponent("tiny.safetensors")
            try SafeTensors.write(EngineFixtures.hostStateDict(model), to: url)
            return url
        }

        @Test("A safetensors state_dict loads with its class count, and prediction writes labels and overlays at each image's size")
        func predictImages() throws {
            let dir = try EngineFixtures.temporaryFolder("predict")
            defer { try? FileManager.default.removeItem(at: dir) }
            let checkpoint = try Self.writeTinyCheckpoint(in: dir)
            let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: checkpoint)
            #expect(loaded.model.numClasses == 6)
            #expect(loaded.classNames == (0..<6).map { "class \($0)" })
            #expect(loaded.classSource.contains("numbered"))
            #expect(loaded.palette.count >= 6)
            #expect(!loaded.model.isTraining)

            let inputs = dir.appendingPathComponent("images")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let originals = ["a": Self.image(width: 70, height: 90, seed: 1), "b": Self.image(width: 90, height: 70, seed: 2)]
            for (name, image) in originals { try ImageIO.writePNG(image, to: inputs.appendingPathComponent("\(name).png")) }
            try Data("not an image".utf8).write(to: inputs.appendingPathComponent("notes.txt"))

            let files = try Predictor.inputs(inputs)
            #expect(files.map(\.lastPathComponent) == ["a.png", "b.png"])
            let out = dir.appendingPathComponent("out")
            let predictor = Predictor(loaded: loaded, settings: EngineFixtures.settings())
            var progress: [Int] = []
            let written = try predictor.run(inputs: files, outputDir: out, overlay: true, opacity: 0.5) { i, _, _, _ in progress.append(i) }.written
            #expect(progress == [1, 2])
            #expect(written.map(\.lastPathComponent) == ["a.png", "a_overlay.png", "b.png", "b_overlay.png"])

            for (name, original) in originals {
                let labels = try ImageIO.readLabelValues(out.appendingPathComponent("\(name).png"))
                #expect(labels.width == original.width && labels.height == original.height)
                #expect(labels.values.allSatisfy { $0 < 6 })
                let overlay = try ImageIO.readImage(out.appendingPathComponent("\(name)_overlay.png"))
                #expect(overlay.width == original.width && overlay.height == original.height)
                #expect(overlay.pixels != original.pixels)
                // Each overlay pixel is the 50% blend of the image and its label's colour.
                for p in stride(from: 0, to: labels.values.count, by: 97) {
                    let colour = loaded.palette[Int(labels.values[p])]
                    for k in 0..<3 {
                        let blend = ((Double(original.pixels[3 * p + k]) + Double(colour[k])) / 2).rounded()
                        #expect(abs(Double(overlay.pixels[3 * p + k]) - blend) <= 1)
                    }
                }
            }
            // The label map is the model's prediction at the original size.
            let direct = try predictor.segment(originals["a"]!)
            #expect(direct.labels.map(UInt16.init) == (try ImageIO.readLabelValues(out.appendingPathComponent("a.png")).values))
        }

        @Test("On the CPU in float32 predict runs the optimized model by default; its label maps equal the plain forward's")
        func optimizedPrediction() throws {
            let dir = try EngineFixtures.temporaryFolder("predict-optimized")
            defer { try? FileManager.default.removeItem(at: dir) }
            let checkpoint = try Self.writeTinyCheckpoint(in: dir)
            let plain = try ModelLoader.load(model: "lrformer-tiny", checkpoint: checkpoint)
            let optimized = try ModelLoader.load(model: "lrformer-tiny", checkpoint: checkpoint)
            #expect(!InferencePreparation.prepare(plain.model, device: .cpu, precision: .fp32, plain: true))
            #expect(!InferencePreparation.prepare(plain.model, device: .cpu, precision: .bf16))
            #expect(!plain.model.isOptimizedForInference)
            #expect(InferencePreparation.prepare(optimized.model, device: .cpu, precision: .fp32) == OneDNN.isAvailable)
            #expect(optimized.model.isOptimizedForInference == OneDNN.isAvailable)
            for (i, size) in [(70, 90), (123, 77), (64, 64)].enumerated() {
                let image = Self.image(width: size.0, height: size.1, seed: i)
                let a = try Predictor(loaded: plain, settings: EngineFixtures.settings()).segment(image).labels
                let b = try Predictor(loaded: optimized, settings: EngineFixtures.settings()).segment(image).labels
                // Equal except where two classes' scores lie within float rounding of each other.
                let differing = zip(a, b).filter { $0 != $1 }.count
                #expect(differing * 1000 <= a.count, "\(size): \(differing) of \(a.count) pixels differ")
            }
        }

        @Test("Opacity 0 leaves the image as it is; no overlay is written unless asked")
        func opacityZero() throws {
            let dir = try EngineFixtures.temporaryFolder("opacity")
            defer { try? FileManager.default.removeItem(at: dir) }
            let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: Self.writeTinyCheckpoint(in: dir), numClasses: 6)
            let url = dir.appendingPathComponent("one.png")
            let original = Self.image(width: 64, height: 48, seed: 3)
            try ImageIO.writePNG(original, to: url)
            let predictor = Predictor(loaded: loaded, settings: EngineFixtures.settings())
            let written = try predictor.run(inputs: [url], outputDir: dir.appendingPathComponent("o"), overlay: true, opacity: 0).written
            #expect(try ImageIO.readImage(written[1]).pixels == original.pixels)
            let plain = try predictor.run(inputs: [url], outputDir: dir.appendingPathComponent("p"), overlay: false, opacity: 0.5).written
            #expect(plain.map(\.lastPathComponent) == ["one.png"])
        }

        @Test("A checkpoint of another model fails and lists the missing keys")
        func wrongModel() throws {
            let dir = try EngineFixtures.temporaryFolder("wrong")
            defer { try? FileManager.default.removeItem(at: dir) }
            let checkpoint = try Self.writeTinyCheckpoint(in: dir)
            let error = #expect(throws: ModelError.self) { try ModelLoader.load(model: "lrformer-t", checkpoint: checkpoint) }
            let message = error?.description ?? ""
            #expect(message.contains("missing keys"), "\(message)")
            #expect(message.contains("backbone."), "\(message)")
            #expect(message.split(separator: "\n").count <= 6, "the report must fit on a screen: \(message)")
            #expect(message.contains("hint: its keys and shapes are those of lrformer-tiny"), "\(message)")

            // A file without the classifier cannot say how many classes it has.
            let other = dir.appendingPathComponent("other.safetensors")
            var dict = HostTensorDict()
            dict["encoder.weight"] = try Tensor.zeros([2, 2]).host()
            try SafeTensors.write(dict, to: other)
            let noHead = #expect(throws: EngineError.self) { try ModelLoader.load(model: "lrformer-tiny", checkpoint: other) }
            #expect(noHead?.message.contains("decode_head.conv_seg.weight") == true)
            #expect(noHead?.message.contains("lrformer-tiny checkpoint") == true)

            // Weights of another family, without this one's classifier key: the hint names the model they fit.
            let segformer = dir.appendingPathComponent("segformer.safetensors")
            try SafeTensors.write(EngineFixtures.hostStateDict(try ModelRegistry.segmentation("segformer-b0", numClasses: 3)), to: segformer)
            let otherFamily = #expect(throws: EngineError.self) { try ModelLoader.load(model: "lrformer-tiny", checkpoint: segformer) }
            #expect(otherFamily?.message.contains("hint: its keys and shapes are those of segformer-b0: pass --model segformer-b0") == true,
                    "\(String(describing: otherFamily))")
        }

        @Test("A recursive run reads the tree, skips hidden entries, the output folder and symlink loops, and mirrors the subfolders")
        func recursiveTree() throws {
            let dir = try EngineFixtures.temporaryFolder("tree")
            defer { try? FileManager.default.removeItem(at: dir) }
            let root = dir.appendingPathComponent("val"), out = root.appendingPathComponent("preds")
            let files = ["a.png", "frankfurt/x.png", "frankfurt/x.jpg", "lindau/deep/x.png", ".cache/h.png", "preds/old.png"]
            for (i, name) in files.enumerated() {
                let url = root.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try ImageIO.writePNG(Self.image(width: 40, height: 30, seed: i), to: url)  // read by content, whatever the extension
            }
            try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("frankfurt/loop"), withDestinationURL: root)

            let inputs = try Predictor.inputs(root, recursive: true, excluding: out)
            let relative = inputs.map { (Predictor.subfolders(of: $0, under: root) + [$0.lastPathComponent]).joined(separator: "/") }
            #expect(relative == ["a.png", "frankfurt/x.jpg", "frankfurt/x.png", "lindau/deep/x.png"])
            // The tree itself as the output folder excludes nothing (writing over inputs is refused later).
            #expect(try Predictor.inputs(root, recursive: true, excluding: root).count == 5)

            let loaded = try ModelLoader.load(model: "lrformer-tiny", checkpoint: Self.writeTinyCheckpoint(in: dir))
            let report = try Predictor(loaded: loaded, settings: EngineFixtures.settings())
                .run(inputs: inputs, outputDir: out, overlay: false, opacity: 0.5, root: root)
            let written = report.written.map { String($0.path.dropFirst(out.path.count + 1)) }
            #expect(written == ["a.png", "frankfurt/x_jpg.png", "frankfurt/x_png.png", "lindau/deep/x.png"])
            for url in report.written {
                let labels = try ImageIO.readLabelMap(url)
                #expect(labels.width == 40 && labels.height == 30, "\(url.path)")
            }
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("old.png").path))
            // Flat names (no root) would put both x.png in one file: refused before anything is written.
            let flat = #expect(throws: EngineError.self) { try Predictor.outputNames(for: inputs, in: out, overlay: false) }
            #expect(flat?.message.contains("would both be written") == true, "\(String(describing: flat))")
        }

        @Test("A training checkpoint loaded as another model names the model it trained")
        func trainingCheckpointOfAnotherModel() throws {
            let dir = try EngineFixtures.temporaryFolder("trained-as")
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = try EngineFixtures.tinyConfig(data: EngineFixtures.synthData(in: dir, train: 2, val: 1), iterations: 1)
            let summary = try Trainer(config: config, options: EngineFixtures.trainerOptions(dir.appendingPathComponent("work")),
                                      logger: EngineFixtures.silentLogger).run()
            for checkpoint in [summary.checkpoint, summary.checkpoint.appendingPathComponent("model.safetensors")] {
                let error = #expect(throws: EngineError.self) { try ModelLoader.load(model: "lrformer-t", checkpoint: checkpoint) }
                #expect(error?.message.contains("training checkpoint of lrformer-tiny (its state.json), not of lrformer-t: pass --model lrformer-tiny") == true,
                        "\(String(describing: error))")
            }
            #expect(try ModelLoader.load(model: "lrformer-tiny", checkpoint: summary.checkpoint).model.name == "lrformer-tiny")
        }

        @Test("Missing weights, missing input and a folder without images are clear errors")
        func inputErrors() throws {
            let dir = try EngineFixtures.temporaryFolder("inputs")
            defer { try? FileManager.default.removeItem(at: dir) }
            let noWeights = #expect(throws: EngineError.self) {
                try ModelLoader.load(model: "lrformer-tiny", checkpoint: dir.appendingPathComponent("absent.safetensors"))
            }
            #expect(noWeights?.message.contains("no such file") == true)

            let missing = #expect(throws: EngineError.self) { try Predictor.inputs(dir.appendingPathComponent("nope.png")) }
            #expect(missing?.message.contains("input not found") == true)

            let empty = dir.appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            try Data().write(to: empty.appendingPathComponent("readme.md"))
            let none = #expect(throws: EngineError.self) { try Predictor.inputs(empty) }
            #expect(none?.message.contains("no .jpg/.jpeg/.png images") == true && none?.message.contains("further down") == false)
            // Images only in a subfolder (a dataset root): the message points at one.
            let nested = empty.appendingPathComponent("images/validation")
            try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
            try Data().write(to: nested.appendingPathComponent("a.JPG"))
            let deeper = #expect(throws: EngineError.self) { try Predictor.inputs(empty) }
            #expect(deeper?.message.contains("further down, e.g. \(nested.appendingPathComponent("a.JPG").path): --recursive") == true,
                    "\(String(describing: deeper))")
            #expect(try Predictor.inputs(empty, recursive: true) == [nested.appendingPathComponent("a.JPG")])
        }
    }
}
