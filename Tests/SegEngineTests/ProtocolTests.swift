import Foundation
import Testing
import SegData
import SegModels
import Torch
@testable import SegEngine

/// The default test protocol of `eval` and `predict` is the family's official one, with the numbers of the configs.
@Suite("Official test protocols")
struct ProtocolTests {
    static let ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]

    // yuhuan-wu/LRFormer configs_local/lrformer/lrformer-s-160k_ade20k.py:
    //   test_pipeline AlignResize(scale=(2048, 512), size_divisor=32, keep_ratio=True); test_cfg=dict(mode='whole');
    //   configs_local/_base_/datasets/ade20k.py tta_pipeline: Resize(scale_factor=r, keep_ratio=True), r in img_ratios.
    @Test("LRFormer on ADE20K: AlignResize (2048, 512) to /32, whole, mmseg 1.x TTA")
    func lrformerADE() throws {
        let s = try EvaluationSettings.official(model: "lrformer-t", dataset: .ade20k)
        #expect(s.test.mode == .whole)
        #expect(s.test.scale == ResizeScale(longSide: 2048, shortSide: 512))
        #expect(s.test.sizeDivisor == 32)
        #expect(s.test.tta == TTAProtocol(ratios: Self.ratios, flip: true, rule: .scaleOriginal))
        #expect(s.normalization == .imageNet)
        #expect(s.source.contains("yuhuan-wu/LRFormer"))
        // lrformer-l-160k_ade20k.py: AlignResize(scale=(2560, 640), size_divisor=32).
        let large = try EvaluationSettings.official(model: "lrformer-l", dataset: .ade20k)
        #expect(large.test.scale == ResizeScale(longSide: 2560, shortSide: 640) && large.test.sizeDivisor == 32)
    }

    // mmsegmentation 1.x configs/segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py with _base_/datasets/ade20k.py:
    //   test_pipeline Resize(scale=(2048, 512), keep_ratio=True) (no rounding); test_cfg=dict(mode='whole').
    @Test("SegFormer on ADE20K: Resize (2048, 512) keep-ratio without rounding, whole")
    func segformerADE() throws {
        let s = try EvaluationSettings.official(model: "segformer-b0", dataset: .ade20k)
        #expect(s.test.mode == .whole)
        #expect(s.test.scale == ResizeScale(longSide: 2048, shortSide: 512))
        #expect(s.test.sizeDivisor == nil)
        #expect(s.test.tta.rule == .scaleOriginal && s.test.tta.ratios == Self.ratios)
        // A 683x512 image stays 683x512 (AlignResize would make it 704x512).
        let resize = s.pipeline.resize.sizes(width: 683, height: 512).aligned
        #expect(resize.width == 683 && resize.height == 512)
    }

    // configs/segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py: test_cfg=dict(mode='slide',
    //   crop_size=(1024, 1024), stride=(768, 768)); _base_/datasets/cityscapes_1024x1024.py: Resize(scale=(2048, 1024)).
    @Test("SegFormer on Cityscapes: 2048x1024 kept as it is, slide 1024 every 768")
    func segformerCityscapes() throws {
        let s = try EvaluationSettings.official(model: "segformer-b2", dataset: .cityscapes)
        #expect(s.test.mode == .slide)
        #expect(s.test.slideCrop == .square(1024) && s.test.slideStride == .square(768))
        #expect(s.test.scale == ResizeScale(longSide: 2048, shortSide: 1024) && s.test.sizeDivisor == nil)
        let size = s.pipeline.resize.sizes(width: 2048, height: 1024).aligned
        #expect(size.width == 2048 && size.height == 1024)
        #expect(s.inferenceMode == .slide(crop: .square(1024), stride: .square(768)))
    }

    @Test("mmseg 1.x TTA scales the original image (no rounding); mmseg 0.x the test scale, then rounds")
    func ttaRules() {
        let original = TestTimeAugmentation(scale: (2048, 512), scales: [0.5, 1.75], flip: false, sizeDivisor: 32, ratioBase: .originalSize)
        #expect(original.views(width: 683, height: 512).map { [$0.width, $0.height] } == [[342, 256], [1195, 896]])
        let scaled = TestTimeAugmentation(scale: (2048, 512), scales: [0.5, 1.75], flip: false, sizeDivisor: 32, ratioBase: .testScale)
        #expect(scaled.views(width: 683, height: 512).map { [$0.width, $0.height] } == [[352, 256], [1216, 896]])
    }

    @Test("--json rounds as numpy's np.round(x * 100, 2): an IoU of exactly 1/32 is 3.12, not 3.13")
    func roundingTie() throws {
        var matrix = ConfusionMatrix(numClasses: 2)
        // 32 pixels, one of class 0 and the rest class 1, all predicted as class 0: IoU(0) = aAcc = 1/32.
        let labels = [Int32](repeating: 1, count: 32).enumerated().map { $0.offset == 0 ? Int32(0) : $0.element }
        matrix.accumulate(prediction: [Int32](repeating: 0, count: 32), label: labels, ignoreIndex: 255)
        let metrics = SegMetrics(matrix, classNames: ["a", "b"])
        #expect(metrics.iou[0] == 1.0 / 32)
        let json = try #require(try JSONSerialization.jsonObject(with: metrics.json(classNames: ["a", "b"])) as? [String: Any])
        #expect(json["aAcc"] as? Double == 3.12)
        let classes = try #require(json["classes"] as? [[String: Any]])
        #expect(classes[0]["IoU"] as? Double == 3.12)
        #expect(SegMetrics.percent(1.0 / 32) == "3.12")  // the text table agrees
        #expect(SegMetrics.rounded(0.03135) == 3.14 && SegMetrics.rounded(.nan) == nil)
    }

    @Test("A crop or window below the family's minimum is a clear error naming the size that works")
    func minimumSizes() throws {
        var config = try TrainConfig.preset(model: "segformer-b0", dataset: .ade20k)
        config.cropSize = .square(16)
        let problems = config.problems()
        #expect(problems.contains { $0.hasPrefix("cropSize:") && $0.contains("at least 29x29") }, "\(problems)")

        var settings = try EvaluationSettings.official(model: "segformer-b0", dataset: .ade20k)
        settings.test.mode = .slide
        settings.test.slideCrop = .square(16)
        settings.test.slideStride = .square(8)
        let error = #expect(throws: EngineError.self) { try settings.validate() }
        #expect(error?.message.contains("at least 29x29") == true, "\(String(describing: error))")

        settings.test.slideCrop = .square(64)
        settings.test.slideStride = .square(96)
        let stride = #expect(throws: EngineError.self) { try settings.validate() }
        #expect(stride?.message.contains("larger than the crop") == true)
    }

    @Test("A config file that names Cityscapes gets Cityscapes' recipe and 19 classes, whatever the default data set")
    func cityscapesConfigFile() throws {
        let dir = try EngineFixtures.temporaryFolder("cityconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("city.yaml")
        try "model: lrformer-t\ndataset:\n  kind: cityscapes\n".write(to: file, atomically: true, encoding: .utf8)
        let config = try TrainConfig.load(contentsOf: file)
        #expect(config.dataset.kind == .cityscapes && config.dataset.numClasses == 19 && config.dataset.reduceZeroLabel == false)
        #expect(config.cropSize == .square(1024) && config.batchSize == 8)
        #expect(config.test.mode == .slide && config.test.slideCrop == .square(1024) && config.test.slideStride == .square(768))
        // `test.sizeDivisor: null` says "no rounding" and stays so.
        try "model: lrformer-t\ntest:\n  sizeDivisor: null\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try TrainConfig.load(contentsOf: file).test.sizeDivisor == nil)
    }

    @Test("Training from a Cityscapes config file builds a 19-class model and reads the train ids")
    func cityscapesTraining() throws {
        let dir = try EngineFixtures.temporaryFolder("citytrain")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("cityscapes")
        for (split, count) in [("train", 2), ("val", 1)] {
            for i in 0..<count {
                let name = "aachen_00000\(i)_000019"
                let image = dir.appendingPathComponent("cityscapes/leftImg8bit/\(split)/aachen/\(name)_leftImg8bit.png")
                let label = dir.appendingPathComponent("cityscapes/gtFine/\(split)/aachen/\(name)_gtFine_labelTrainIds.png")
                try FileManager.default.createDirectory(at: image.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.createDirectory(at: label.deletingLastPathComponent(), withIntermediateDirectories: true)
                try ImageIO.writePNG(EngineRuns.PredictorTests.image(width: 128, height: 64, seed: i), to: image)
                let ids = (0..<(128 * 64)).map { UInt8(($0 / 7 + i) % 19) }
                try ImageIO.writeLabelPNG(LabelMap(width: 128, height: 64, labels: ids), palette: nil, to: label)
            }
        }
        let file = dir.appendingPathComponent("city.yaml")
        try """
            model: lrformer-tiny
            dataset: {kind: cityscapes, root: \(data.path)}
            iterations: 2
            batchSize: 1
            cropSize: 64
            augmentation: {scale: [256, 128]}
            test: {mode: whole, scale: [256, 128]}
            schedule: {warmupIters: 1}
            workers: 1
            device: cpu
            """.write(to: file, atomically: true, encoding: .utf8)
        let config = try TrainConfig.load(contentsOf: file)
        #expect(config.dataset.numClasses == 19)
        let summary = try Trainer(config: config, options: EngineFixtures.trainerOptions(dir.appendingPathComponent("run")),
                                  logger: EngineFixtures.silentLogger).run()
        let weights = try EngineFixtures.storedWeights(summary.checkpoint)
        #expect(weights["decode_head.conv_seg.weight"]?.shape == [19, 32, 1, 1])
        #expect(summary.lastMetrics?.numClasses == 19)
    }
}
