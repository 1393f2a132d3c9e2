import Foundation
import Testing
import SegModels
import Torch
@testable import SegEngine

@Suite("Config")
struct ConfigTests {
    @Test("LRFormer on ADE20K: the official recipe")
    func lrformerADE() throws {
        let c = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        #expect(c.optimizer.type == .adamw)
        #expect(c.optimizer.lr == 6e-5)
        #expect(c.optimizer.betas == [0.9, 0.999])
        #expect(c.optimizer.weightDecay == 0.01)
        #expect(c.optimizer.paramRules == ["head": ParamRule(lrMult: 10, decayMult: 1), "norm": ParamRule(lrMult: 1, decayMult: 0)])
        #expect(c.gradClipMaxNorm == 35)
        #expect(c.schedule == ScheduleConfig(policy: .poly, warmupIters: 1500, warmupRatio: 1e-6, power: 1, minLR: 0))
        #expect(c.iterations == 160_000)
        #expect(c.batchSize == 16)
        #expect(c.cropSize == Size2D(height: 512, width: 512))
        #expect(c.loss == LossConfig(ignoreIndex: 255, avgNonIgnore: false))
        #expect(c.dataset.numClasses == 150 && c.dataset.reduceZeroLabel == true)
        #expect(c.augmentation.scale == ResizeScale(longSide: 2048, shortSide: 512))
        #expect(c.augmentation.ratioRange == [0.5, 2.0] && c.augmentation.catMaxRatio == 0.75 && c.augmentation.flipProb == 0.5)
        #expect(c.test.mode == .whole && c.test.sizeDivisor == 32)
        #expect(c.lrSchedule.lr(at: 0) == 6e-5 * 1e-6)
        #expect(abs(c.lrSchedule.lr(at: 1499) - 6e-5) < 1e-18)
        #expect(c.lrSchedule.lr(at: 159_999) == 0)
        // The rules as the optimizer will see them.
        #expect(c.paramGroupRules.rule(for: "decode_head.fuse_block1.norm1.weight") == ParamRule(lrMult: 10, decayMult: 1))
        try c.validate()
    }

    @Test func lrformerCityscapesAndCocoStuff() throws {
        let city = try TrainConfig.preset(model: "lrformer-s", dataset: .cityscapes)
        #expect(city.cropSize == .square(1024) && city.batchSize == 8 && city.iterations == 160_000)
        #expect(city.test.mode == .slide && city.test.slideCrop == .square(1024) && city.test.slideStride == .square(768))
        #expect(city.dataset.numClasses == 19 && city.dataset.reduceZeroLabel == false)
        #expect(city.gradClipMaxNorm == 35)
        let coco = try TrainConfig.preset(model: "lrformer-b", dataset: .cocoStuff)
        #expect(coco.dataset.numClasses == 171 && coco.iterations == 80_000 && coco.cropSize == .square(512))
        #expect(coco.optimizer.lr == 6e-5)
        try city.validate()
        try coco.validate()
    }

    @Test func segformerRecipe() throws {
        let c = try TrainConfig.preset(model: "segformer-b0", dataset: .ade20k)
        #expect(c.optimizer.lr == 6e-5 && c.optimizer.weightDecay == 0.01)
        #expect(c.optimizer.paramRules["pos_block"] == ParamRule(decayMult: 0))
        #expect(c.optimizer.paramRules["norm"] == ParamRule(decayMult: 0))
        #expect(c.optimizer.paramRules["head"] == ParamRule(lrMult: 10))
        #expect(c.gradClipMaxNorm == nil)
        #expect(c.schedule.warmupIters == 1500 && c.schedule.power == 1 && c.iterations == 160_000)
        #expect(c.test.sizeDivisor == nil)
        try c.validate()
    }

    @Test func unknownModel() {
        #expect(throws: ConfigError.unknownModel("resnet50")) {
            try TrainConfig.preset(model: "resnet50", dataset: .ade20k)
        }
    }

    @Test("a partial YAML file overrides only what it sets")
    func yamlOverrides() throws {
        let base = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        let c = try base.merging(yaml: """
            # YAML 1.1 reads 1e-4 as a string; the Double field still gets a number.
            optimizer:
              lr: 1e-4
              paramRules:
                head: {lrMult: 5}
            iterations: 8000
            cropSize: [256, 320]
            gradClipMaxNorm: null
            loss: {avgNonIgnore: true}
            test: {mode: slide, slideCrop: 512, slideStride: [341, 300]}
            """)
        #expect(c.optimizer.lr == 1e-4)
        #expect(c.optimizer.paramRules == ["head": ParamRule(lrMult: 5, decayMult: 1)])  // replaced as a whole
        #expect(c.optimizer.weightDecay == 0.01)                                          // kept
        #expect(c.iterations == 8000)
        #expect(c.cropSize == Size2D(height: 256, width: 320))
        #expect(c.gradClipMaxNorm == nil)
        #expect(c.loss.avgNonIgnore && c.loss.ignoreIndex == 255)
        #expect(c.test.mode == .slide && c.test.slideCrop == .square(512) && c.test.slideStride == Size2D(height: 341, width: 300))
        #expect(c.test.sizeDivisor == 32)
        #expect(c.schedule == base.schedule && c.augmentation == base.augmentation && c.dataset == base.dataset)
    }

    @Test("a partial JSON document picks its preset from model and dataset.kind")
    func jsonPicksPreset() throws {
        let c = try TrainConfig.decode(Data(#"{"model": "lrformer-t", "dataset": {"kind": "cityscapes"}, "batchSize": 4}"#.utf8),
                                       format: .json)
        #expect(c.dataset.kind == .cityscapes && c.dataset.numClasses == 19)
        #expect(c.cropSize == .square(1024))
        #expect(c.batchSize == 4)
        // Command-line choices win over the file's.
        let d = try TrainConfig.decode(Data("model: lrformer-t\nseed: 7\n".utf8), format: .yaml,
                                       model: "segformer-b1", dataset: .cocoStuff)
        #expect(d.model == "segformer-b1" && d.dataset.kind == .cocoStuff && d.dataset.numClasses == 171 && d.seed == 7)
        #expect(d.gradClipMaxNorm == nil)
    }

    @Test("unknown keys are all listed, with their path and a suggestion")
    func unknownKeys() throws {
        let base = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        do {
            _ = try base.merging(yaml: """
                optimiser: {lr: 1}
                optimizer: {weight_decay: 0.1}
                schedule: {warmup: 10}
                optimizer2: 3
                """)
            Issue.record("expected an error")
        } catch let ConfigError.unknownKeys(keys) {
            #expect(keys.contains("optimiser (did you mean 'optimizer'?)"))
            #expect(keys.contains("optimizer.weight_decay (did you mean 'weightDecay'?)"))
            #expect(keys.contains { $0.hasPrefix("schedule.warmup") })
            #expect(keys.contains { $0.hasPrefix("optimizer2") })
            #expect(keys.count == 4)
        }
        // Unknown keys inside param rules too.
        #expect(throws: ConfigError.unknownKeys(["optimizer.paramRules.head.lr_mult (did you mean 'lrMult'?)"])) {
            try base.merging(json: #"{"optimizer": {"paramRules": {"head": {"lr_mult": 10}}}}"#)
        }
    }

    @Test("wrong types name the field")
    func wrongTypes() throws {
        let base = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        func path(_ error: Error) -> String? {
            if case let ConfigError.wrongType(path, _) = error { return path }
            return nil
        }
        do {
            _ = try base.merging(yaml: "iterations: lots\n")
            Issue.record("expected an error")
        } catch {
            #expect(path(error) == "iterations")
        }
        do {
            _ = try base.merging(json: #"{"optimizer": {"lr": "fast"}}"#)
            Issue.record("expected an error")
        } catch {
            #expect(path(error) == "optimizer.lr")
            #expect("\(error)".contains("expected a number"))
        }
        do {
            _ = try base.merging(yaml: "optimizer:\n  betas: [0.9, x]\n")
            Issue.record("expected an error")
        } catch {
            #expect(path(error) == "optimizer.betas[1]")
        }
        do {
            _ = try base.merging(yaml: "batchSize: null\n")
            Issue.record("expected an error")
        } catch {
            #expect(path(error) == "batchSize")
        }
    }

    @Test func invalidChoiceListsTheValidOnes() throws {
        let base = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        do {
            _ = try base.merging(yaml: "dataset: {kind: pascal}\n")
            Issue.record("expected an error")
        } catch let ConfigError.invalidValue(path, message) {
            #expect(path == "dataset.kind")
            #expect(message.contains("ade20k, cityscapes, coco-stuff, folder, synth"))
        }
        #expect(try base.merging(yaml: "dataset: {kind: coco-stuff164k}\n").dataset.kind == .cocoStuff)
    }

    @Test func syntaxErrorsAndEmptyFiles() throws {
        let base = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        #expect(throws: ConfigError.self) { try base.merging(yaml: "optimizer: {lr: [1, 2\n") }
        #expect(throws: ConfigError.self) { try base.merging(json: "{\"iterations\": ") }
        #expect(try base.merging(yaml: "# nothing here\n") == base)
        #expect(try base.merging(json: "  \n") == base)
    }

    @Test("the saved resolved config reads back identical, nulls included")
    func roundTrip() throws {
        var c = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        c.gradClipMaxNorm = nil        // differs from the preset: must survive as an explicit null
        c.test.sizeDivisor = nil
        c.optimizer.paramRules["pos_block"] = ParamRule(lrMult: 2, decayMult: 0)
        c.seed = 42
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try c.save(to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\"gradClipMaxNorm\" : null"))
        #expect(try TrainConfig.load(contentsOf: url) == c)
        #expect(try JSONDecoder().decode(TrainConfig.self, from: Data(contentsOf: url)) == c)
        // A YAML file on disk, with the model from the command line.
        let yamlURL = dir.appendingPathComponent("over.yaml")
        try "iterations: 100\nschedule: {warmupIters: 10}\n".write(to: yamlURL, atomically: true, encoding: .utf8)
        let y = try TrainConfig.load(contentsOf: yamlURL, model: "segformer-b0")
        #expect(y.model == "segformer-b0" && y.iterations == 100 && y.schedule.warmupIters == 10)
        #expect(throws: ConfigError.self) { try TrainConfig.load(contentsOf: dir.appendingPathComponent("missing.yaml")) }
        #expect(throws: ConfigError.self) { try TrainConfig.load(contentsOf: yamlURL) }  // names no model
    }

    @Test func validationListsEveryProblem() throws {
        var c = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        c.schedule.warmupIters = -1
        c.optimizer.betas = [0.9]
        c.test.slideStride = .square(600)
        c.device = "gpu"
        do {
            try c.validate()
            Issue.record("expected an error")
        } catch let ConfigError.invalid(problems) {
            #expect(problems.count == 4)
            #expect(problems.contains { $0.hasPrefix("schedule.warmupIters") })
            #expect(problems.contains { $0.hasPrefix("optimizer.betas") })
            #expect(problems.contains { $0.hasPrefix("test.slideStride") })
            #expect(problems.contains { $0.hasPrefix("device") })
        }
    }

    @Test func allPresetsAreValid() throws {
        for model in ModelRegistry.variants.filter({ $0.kind == .segmentation }).map(\.name) {
            for dataset in DatasetKind.allCases {
                let c = try TrainConfig.preset(model: model, dataset: dataset)
                #expect(c.problems().isEmpty, "\(model) on \(dataset): \(c.problems())")
            }
        }
        #expect(try TrainConfig.preset(model: "lrformer-l", dataset: .ade20k).cropSize == .square(640))
    }
}

@Suite("Config messages")
struct ConfigMessageTests {
    @Test func errorDescriptionsNameTheFields() throws {
        let base = try TrainConfig.preset(model: "lrformer-t", dataset: .ade20k)
        do {
            _ = try base.merging(yaml: "optimizer: {weight_decay: 0.1, lr: 1}\nbatch_size: 2\n")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "unknown config keys: batch_size (did you mean 'batchSize'?); "
                        + "optimizer.weight_decay (did you mean 'weightDecay'?)")
        }
        do {
            _ = try base.merging(json: #"{"optimizer": {"lr": "fast"}}"#)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".hasPrefix("config optimizer.lr: expected a number"))
        }
        // Keys under their `train` flag's or mmseg's name, or in the wrong section, point at where they belong.
        do {
            _ = try base.merging(yaml: "iters: 10\nlr: 0.001\nwarmup_iters: 5\nmax_iters: 3\nschedule: {lr: 1}\nzzz: 1\n")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "unknown config keys: iters (did you mean 'iterations'?); lr (did you mean 'optimizer.lr'?); "
                        + "max_iters (did you mean 'iterations'?); warmup_iters (did you mean 'schedule.warmupIters'?); zzz; "
                        + "schedule.lr (did you mean 'optimizer.lr'?)")
        }
        #expect("\(ConfigError.invalid(["a: b", "c: d"]))" == "invalid config:\n  - a: b\n  - c: d")
    }
}
