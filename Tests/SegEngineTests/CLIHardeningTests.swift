import Foundation
import Testing
import SegData
import SegModels
import Torch
import TorchIO
@testable import SegEngine

/// The hardening issue through the binary, as the user met it: exit statuses, what stderr says, what is left on disk.
extension CLITests {
    /// A temporary folder with an 8-class `lrformer-tiny` checkpoint (`tiny.safetensors`) and a 64x48 `img.png`.
    static func workspace(_ label: String, classes: Int = 8) throws -> URL {
        let dir = try EngineFixtures.temporaryFolder("cli-\(label)")
        _ = try EngineRuns.PredictorTests.writeTinyCheckpoint(in: dir, classes: classes)
        try ImageIO.writePNG(EngineRuns.PredictorTests.image(width: 64, height: 48, seed: 1), to: dir.appendingPathComponent("img.png"))
        return dir
    }

    /// Runs the binary, killing it after `timeout` seconds (reading a FIFO or /dev/zero would otherwise never end).
    static func run(_ arguments: [String], timeout: TimeInterval = 300) throws -> SwiftSegBinary.Result {
        try SwiftSegBinary.run(arguments) { process in
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { process.terminate() } }
        }
    }

    static func makeFIFO(_ url: URL) throws -> URL {
        guard mkfifo(url.path, 0o644) == 0 else { throw EngineError("mkfifo \(url.path): \(String(cString: strerror(errno)))") }
        return url
    }

    static func isFIFO(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO
    }

    /// Fails the test unless the run ended with a non-zero exit (not a signal) and a plain "Error: ..." that
    /// contains `expected`: no Foundation error dump, no usage text.
    static func expectCleanFailure(_ r: SwiftSegBinary.Result, _ expected: [String], _ label: String) {
        #expect(r.exited, "\(label): died of signal \(r.status) (or was killed after the time limit)")
        #expect(r.status != 0, "\(label): exited 0")
        for text in expected { #expect(r.stderr.contains(text), "\(label): stderr lacks '\(text)': \(r.stderr)") }
        for dump in ["Error Domain=", "NSCocoaErrorDomain", "Usage:", "Code="] {
            #expect(!r.stderr.contains(dump), "\(label): stderr shows '\(dump)': \(r.stderr)")
        }
    }

    // MARK: - 1. predict

    @Test("predict refuses to write label maps over its inputs, and keeps x.jpg and x.png apart")
    func predictNeverOverwritesInputs() throws {
        let dir = try Self.workspace("clobber")
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for (i, name) in ["a.png", "b.png"].enumerated() {
            try ImageIO.writePNG(EngineRuns.PredictorTests.image(width: 50, height: 40, seed: i), to: images.appendingPathComponent(name))
        }
        let before = try ["a.png", "b.png"].map { try Data(contentsOf: images.appendingPathComponent($0)) }
        let checkpoint = dir.appendingPathComponent("tiny.safetensors").path
        let r = try Self.run(["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--input", images.path, "--out", images.path])
        Self.expectCleanFailure(r, ["would replace input images (a.png, b.png)"], "--out = --input")
        #expect(try ["a.png", "b.png"].map { try Data(contentsOf: images.appendingPathComponent($0)) } == before)

        // x.jpg and x.png (a PNG named .jpg: formats are told by content) into one output folder.
        try before[0].write(to: images.appendingPathComponent("x.jpg"))
        try before[1].write(to: images.appendingPathComponent("x.png"))
        let out = dir.appendingPathComponent("out")
        let ok = try Self.run(["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--input", images.path, "--out", out.path])
        #expect(ok.exited && ok.status == 0, "\(ok.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(written == ["a.png", "b.png", "x_jpg.png", "x_png.png"], "\(written)")
    }

    @Test("eval --out and forward --output refuse to replace a dataset file, the weights, the input or a file of another kind")
    func resultFilesNeverReplaceInputs() throws {
        let dir = try Self.workspace("results")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("tiny.safetensors")
        let data = try EngineFixtures.synthData(in: dir, train: 1, val: 1)
        let image = data.appendingPathComponent("ADEChallengeData2016/images/validation/synth_val_00000.png")
        let classes = data.appendingPathComponent(SynthDataset.classesFileName)
        let notes = dir.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: notes)
        let input = dir.appendingPathComponent("input.safetensors")
        var tensors = HostTensorDict()
        tensors["input"] = try Tensor.randn([1, 3, 64, 64]).host()
        try SafeTensors.write(tensors, to: input)
        let protected = [image, classes, notes, checkpoint, input]
        let before = try protected.map { try Data(contentsOf: $0) }

        let eval = ["eval", "--model", "lrformer-tiny", "--checkpoint", checkpoint.path, "--data", data.path, "--out"]
        Self.expectCleanFailure(try Self.run(eval + [image.path]), ["would replace a file in an input of this run (\(data.path))"], "eval onto an image")
        Self.expectCleanFailure(try Self.run(eval + [classes.path]), ["would replace a file in an input"], "eval onto the classes file")
        Self.expectCleanFailure(try Self.run(eval + [notes.path]), ["exists and is not a .json file"], "eval onto notes.txt")
        let forward = ["forward", "--model", "lrformer-tiny", "--weights", checkpoint.path, "--input", input.path, "--output"]
        Self.expectCleanFailure(try Self.run(forward + [checkpoint.path]), ["would replace an input of this run"], "forward onto the weights")
        Self.expectCleanFailure(try Self.run(forward + [input.path]), ["would replace an input of this run"], "forward onto its input")
        #expect(try protected.map { try Data(contentsOf: $0) } == before)

        // An earlier result of the same kind is replaced, as a rerun expects.
        let results = dir.appendingPathComponent("results.json")
        try Data("{}".utf8).write(to: results)
        let ok = try Self.run(eval + [results.path])
        #expect(ok.exited && ok.status == 0, "\(ok.stderr)")
        #expect(try String(contentsOf: results, encoding: .utf8).contains("mIoU"))
    }

    // MARK: - 7. a bad image does not abort the folder

    @Test("predict reports an unreadable image, goes on, and exits 1 with the list; --stop-on-error stops there")
    func predictGoesOnPastBadImages() throws {
        let dir = try Self.workspace("badimage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let good = try Data(contentsOf: dir.appendingPathComponent("img.png"))
        try good.write(to: images.appendingPathComponent("a.png"))
        try Data(good.prefix(60)).write(to: images.appendingPathComponent("b.png"))  // truncated
        try good.write(to: images.appendingPathComponent("c.png"))
        let base = ["predict", "--model", "lrformer-tiny", "--checkpoint", dir.appendingPathComponent("tiny.safetensors").path,
                    "--input", images.path]

        let out = dir.appendingPathComponent("out")
        let r = try Self.run(base + ["--out", out.path])
        #expect(r.exited && r.status == 1, "\(r.status): \(r.stderr)")
        #expect(r.stdout.contains("[2/3] b.png: FAILED") && r.stdout.contains("[3/3] c.png"), "\(r.stdout)")
        #expect(r.stderr.contains("1 of 3 images failed") && r.stderr.contains(images.appendingPathComponent("b.png").path), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["a.png", "c.png"])

        let stopped = dir.appendingPathComponent("stopped")
        let s = try Self.run(base + ["--out", stopped.path, "--stop-on-error"])
        #expect(s.exited && s.status == 1, "\(s.stderr)")
        #expect(!s.stdout.contains("c.png"), "\(s.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: stopped.path) == ["a.png"])
    }

    // MARK: - 9. non-finite weights

    @Test("predict and eval refuse weights with NaN, naming the tensor")
    func nonFiniteWeights() throws {
        let dir = try Self.workspace("nan")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tiny.safetensors")
        var weights = try SafeTensors.read(url)
        let key = "decode_head.conv_seg.weight"
        let tensor = try #require(weights[key], "\(weights.keys.prefix(5))")
        var values = tensor.floatValues()
        values[0] = .nan
        weights[key] = try Tensor(values, shape: tensor.shape).host()
        try SafeTensors.write(weights, to: url)
        let data = try EngineFixtures.synthData(in: dir, train: 1, val: 1)
        for arguments in [["predict", "--input", dir.appendingPathComponent("img.png").path, "--out", dir.appendingPathComponent("out").path],
                          ["eval", "--data", data.path, "--out", dir.appendingPathComponent("e.json").path]] {
            let r = try Self.run(arguments + ["--model", "lrformer-tiny", "--checkpoint", url.path])
            Self.expectCleanFailure(r, ["non-finite", key], arguments[0])
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/img.png").path))
    }

    // MARK: - 4. slide stride larger than the window

    @Test("eval, predict and train refuse a slide stride larger than the window")
    func slideStrideLargerThanCrop() throws {
        let dir = try Self.workspace("slide")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try EngineFixtures.synthData(in: dir, train: 2, val: 1)
        let checkpoint = dir.appendingPathComponent("tiny.safetensors").path
        let slide = ["--mode", "slide", "--crop", "64", "--stride", "96"]
        let eval = try Self.run(["eval", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--data", data.path] + slide)
        Self.expectCleanFailure(eval, ["stride 96x96 is larger than the crop 64x64"], "eval")
        let predict = try Self.run(["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--input",
                                    dir.appendingPathComponent("img.png").path, "--out", dir.appendingPathComponent("out").path] + slide)
        Self.expectCleanFailure(predict, ["stride 96x96 is larger than the crop 64x64"], "predict")
        let config = dir.appendingPathComponent("slide.yaml")
        try "test:\n  mode: slide\n  slideCrop: 64\n  slideStride: 96\n".write(to: config, atomically: true, encoding: .utf8)
        let train = try Self.run(["train", "--model", "lrformer-tiny", "--data", data.path, "--config", config.path,
                                  "--work-dir", dir.appendingPathComponent("run").path])
        Self.expectCleanFailure(train, ["test.slideStride"], "train")
    }

    // MARK: - 5. absurd sizes

    @Test("synth, train and predict refuse absurd sizes up front instead of trapping in an allocation")
    func absurdSizes() throws {
        let dir = try Self.workspace("sizes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let synth = try Self.run(["synth", "--out", dir.appendingPathComponent("s").path, "--size", "100000x100000"])
        #expect(synth.exited && synth.status != 0, "\(synth.status) \(synth.stderr)")
        #expect(synth.stderr.contains("--size 100000x100000: 100000x100000 is larger than the largest image"), "\(synth.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("s").path))

        let data = try EngineFixtures.synthData(in: dir, train: 2, val: 1)
        let train = try Self.run(["train", "--model", "lrformer-tiny", "--data", data.path, "--crop", "100000", "--iters", "2",
                                  "--work-dir", dir.appendingPathComponent("run").path])
        Self.expectCleanFailure(train, ["cropSize: 100000x100000 is larger than the largest image"], "train --crop")
        let predict = try Self.run(["predict", "--model", "lrformer-tiny", "--checkpoint", dir.appendingPathComponent("tiny.safetensors").path,
                                    "--input", dir.appendingPathComponent("img.png").path, "--out", dir.appendingPathComponent("out").path,
                                    "--short-side", "100000"])
        Self.expectCleanFailure(predict, ["test scale (400000, 100000)"], "predict --short-side")
    }

    // MARK: - 10. messages: which path and why

    @Test("Devices, FIFOs, /proc files, files where folders belong: each message names the path and the reason")
    func pathMessages() throws {
        let dir = try Self.workspace("paths")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("tiny.safetensors").path, image = dir.appendingPathComponent("img.png").path
        let fifo = try Self.makeFIFO(dir.appendingPathComponent("fifo")).path
        let data = try EngineFixtures.synthData(in: dir, train: 2, val: 1).path
        let out = dir.appendingPathComponent("out").path
        func predict(_ weights: String, _ input: String, _ output: String) -> [String] {
            ["predict", "--model", "lrformer-tiny", "--checkpoint", weights, "--input", input, "--out", output]
        }
        let cases: [(String, [String], [String])] = [
            ("weights /dev/zero", predict("/dev/zero", image, out), ["cannot read /dev/zero: is a character device, not a regular file"]),
            ("weights FIFO", predict(fifo, image, out), ["cannot read \(fifo): is a pipe (FIFO), not a regular file"]),
            ("weights /proc", predict("/proc/self/status", image, out), ["safetensors: /proc/self/status: header length"]),
            ("image /dev/zero", predict(checkpoint, "/dev/zero", out), ["/dev/zero: cannot read: is a character device"]),
            ("image FIFO", predict(checkpoint, fifo, out), ["\(fifo): cannot read: is a pipe (FIFO)"]),
            ("--out under a file", predict(checkpoint, image, image + "/sub"), ["output folder \(image)/sub: cannot create the folder: Not a directory"]),
            ("--out /proc", predict(checkpoint, image, "/proc/self/x"), ["output folder /proc/self/x: cannot create the folder: No such file or directory"]),
            ("config FIFO", ["train", "--model", "lrformer-tiny", "--data", data, "--config", fifo], ["\(fifo)", "is a pipe (FIFO)"]),
            ("work dir is a file", ["train", "--model", "lrformer-tiny", "--data", data, "--work-dir", image, "--iters", "1"],
             ["work dir \(image): is a file, not a folder"]),
            ("eval --out FIFO", ["eval", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--data", data, "--out", fifo],
             ["--out \(fifo): is a pipe (FIFO), not a regular file"]),
            ("eval --out under a file", ["eval", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--data", data, "--out", image + "/e.json"],
             ["--out \(image)/e.json: its folder \(image): is not a folder"]),
            ("forward --output FIFO", ["forward", "--model", "lrformer-tiny", "--weights", checkpoint, "--input", image, "--output", fifo],
             ["--output \(fifo): is a pipe (FIFO), not a regular file"]),
            ("flops --out under a file", ["flops", "--model", "lrformer-tiny", "--size", "64", "--out", image + "/f"], ["Not a directory"]),
        ]
        for (label, arguments, expected) in cases {
            let r = try Self.run(arguments, timeout: 120)
            Self.expectCleanFailure(r, expected, label)
            #expect(!r.stdout.contains("evaluating"), "\(label): checked only after the work: \(r.stdout)")
        }
        // Atomic writes must not have renamed a file over the FIFO.
        #expect(Self.isFIFO(URL(fileURLWithPath: fifo)))
    }

    @Test("A read-only and a full disk (tmpfs mounts, when this user may mount) are named with the reason, before the work",
          .enabled(if: TinyDisk.canMount, "mounting a tmpfs needs root"))
    func readOnlyAndFullDisks() throws {
        let dir = try Self.workspace("disks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let readOnly = try TinyDisk(in: dir, name: "ro", readOnly: true)
        defer { readOnly.unmount() }
        let full = try TinyDisk(in: dir, name: "full", readOnly: false)
        defer { full.unmount() }
        try full.fill()
        let small = try TinyDisk(in: dir, name: "small", readOnly: false)  // holds the config and log, not the weights
        defer { small.unmount() }
        let checkpoint = dir.appendingPathComponent("tiny.safetensors").path, image = dir.appendingPathComponent("img.png").path
        let data = try EngineFixtures.synthData(in: dir, train: 2, val: 1).path
        let ro = readOnly.url.path, fullPath = full.url.path
        let train = ["train", "--model", "lrformer-tiny", "--data", data, "--iters", "1", "--crop", "64", "--batch", "1", "--eval-interval", "0"]
        let cases: [(String, [String], [String])] = [
            ("train work dir on ro", train + ["--work-dir", "\(ro)/existing"], ["work dir \(ro)/existing: cannot write into the folder: Read-only file system"]),
            ("train work dir on full", train + ["--work-dir", "\(fullPath)/work"], ["\(fullPath)/work/config.json: No space left on device"]),
            ("checkpoint on a small disk", train + ["--work-dir", "\(small.url.path)/work"],
             ["\(small.url.path)/work/checkpoints/.iter_1.partial/model.safetensors: write failed: No space left on device"]),
            ("predict --out ro", ["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--input", image, "--out", "\(ro)/out"],
             ["output folder \(ro)/out: cannot create the folder: Read-only file system"]),
            ("predict --out full", ["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--input", image, "--out", fullPath],
             ["\(fullPath)/img.png: cannot write: No space left on device"]),
            ("eval --out ro", ["eval", "--model", "lrformer-tiny", "--checkpoint", checkpoint, "--data", data, "--out", "\(ro)/e.json"],
             ["--out \(ro)/e.json: its folder \(ro): Read-only file system"]),
            ("synth --out full", ["synth", "--out", "\(fullPath)/synth", "--train", "1", "--val", "1", "--size", "32"], ["No space left on device"]),
            ("flops --out ro", ["flops", "--model", "lrformer-tiny", "--size", "64", "--out", "\(ro)/f"], ["Read-only file system"]),
            ("bench --out ro", ["bench", "--models", "lrformer-tiny", "--sizes", "64", "--repeats", "1", "--warmup", "0", "--out", "\(ro)/b"],
             ["Read-only file system"]),
        ]
        for (label, arguments, expected) in cases {
            let r = try Self.run(arguments, timeout: 120)
            Self.expectCleanFailure(r, expected, label)
            if label.contains("ro") { #expect(!r.stdout.contains("evaluating") && !r.stdout.contains("64x64 batch"), "\(label): \(r.stdout)") }
        }
    }

    @Test("A failure inside a command prints 'Error: <message>' without the usage text; argument errors keep it")
    func runtimeErrorsWithoutUsage() throws {
        let r = try Self.run(["eval", "--model", "lrformer-tiny", "--checkpoint", "/nonexistent/ckpt", "--data", "/tmp"])
        Self.expectCleanFailure(r, ["Error: checkpoint not found: /nonexistent/ckpt"], "missing checkpoint")
        let usage = try Self.run(["eval", "--model", "lrformer-tiny", "--checkpoint", "/nonexistent", "--data", "/tmp", "--limit", "0"])
        #expect(usage.stderr.contains("--limit must be positive") && usage.stderr.contains("Usage:"), "\(usage.stderr)")
    }

    @Test("`info` names the libtorch_cpu it loaded, every time")
    func infoNamesLibtorch() throws {
        for run in 0..<12 {
            let r = try Self.run(["info"])
            #expect(r.exited && r.status == 0, "\(r.stderr)")
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("libtorch") } ?? ""
            #expect(line.contains("/libtorch_cpu.so)") && !line.contains("path unknown"), "run \(run): \(line)")
        }
    }

    // MARK: - 6. bounded prediction memory

    /// 150 classes at 3000x4000 would take 7.2 GB as one score tensor; the chunked class map needs a fraction.
    @Test("predict on a 4000x3000 image with a 150-class model stays under 2 GB of peak resident memory")
    func largeImagePeakMemory() throws {
        let dir = try Self.workspace("large", classes: 150)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Smooth gradients (a small PNG), made by libtorch: a pixel loop in a debug build takes seconds.
        let x = Tensor.linspace(0, 255, steps: 4000).reshape([1, 4000]).expand([3000, 4000])
        let y = Tensor.linspace(0, 255, steps: 3000).reshape([3000, 1]).expand([3000, 4000])
        let rgb = Tensor.stack([x, y, (x + y) / 2], dim: 2).to(dtype: .uint8)  // H,W,3
        let image = dir.appendingPathComponent("large.png")
        try ImageIO.writePNG(Image(width: 4000, height: 3000, channels: 3, pixels: rgb.contiguous().toArray(UInt8.self)), to: image)
        let out = dir.appendingPathComponent("out")
        // The process reports its own peak (VmHWM of its image after exec): wait4's ru_maxrss would include this test
        // process's memory, which posix_spawn's vfork-style child shares until it execs (2-3 GB in the full suite).
        let r = try SwiftSegBinary.run(["predict", "--model", "lrformer-tiny", "--checkpoint",
            dir.appendingPathComponent("tiny.safetensors").path, "--input", image.path, "--out", out.path, "--profile"])
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        let mib = try #require(r.stdout.split(separator: "\n").compactMap { line -> Double? in
            guard let range = line.range(of: "peak RSS ") else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber })
        }.first, "\(r.stdout)")
        let peakGiB = mib / 1024
        #expect(peakGiB < 2, "peak resident memory \(peakGiB) GiB")
        let labels = try ImageIO.readLabelValues(out.appendingPathComponent("large.png"))
        #expect(labels.width == 4000 && labels.height == 3000)
        print("predict 4000x3000, 150 classes: peak RSS \(String(format: "%.2f", peakGiB)) GiB")
    }
}

/// A small tmpfs mounted for a test (root only): read-only, or to be filled up.
struct TinyDisk {
    let url: URL

    static let canMount: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount"),
              let probe = try? TinyDisk(in: FileManager.default.temporaryDirectory, name: "swiftseg-mount-probe-\(UUID().uuidString.prefix(8))",
                                        readOnly: false) else { return false }
        probe.unmount()
        return true
    }()

    init(in parent: URL, name: String, readOnly: Bool) throws {
        url = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=256k", "tmpfs", url.path])
        if readOnly {
            try FileManager.default.createDirectory(at: url.appendingPathComponent("existing"), withIntermediateDirectories: true)
            try Self.mount(["-o", "remount,ro", url.path])
        }
    }

    /// Writes until the disk is full.
    func fill() throws {
        let fd = open(url.appendingPathComponent("filler").path, O_WRONLY | O_CREAT, 0o644)
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    func unmount() {
        _ = try? Self.mount(["-l", url.path], tool: "/bin/umount")
        try? FileManager.default.removeItem(at: url)
    }

    private static func mount(_ arguments: [String], tool: String = "/bin/mount") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EngineError("\(tool) \(arguments) failed") }
    }
}

// MARK: - 8. oneDNN's primitive cache is bounded for inference

extension CLITests {
    /// oneDNN cache misses logged (ONEDNN_VERBOSE=all) while predict segmented each image, in input order.
    static func primitiveMisses(_ images: URL, checkpoint: URL, out: URL, capacity: String?) throws -> [Int] {
        var environment = ["ONEDNN_VERBOSE": "all"]
        if let capacity { environment["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = capacity }
        let r = try SwiftSegBinary.run(["predict", "--model", "lrformer-tiny", "--checkpoint", checkpoint.path, "--input", images.path,
                                        "--out", out.path, "--dataset", "ade20k", "--short-side", "128"], environment: environment)
        #expect(r.exited && r.status == 0, "\(r.stderr)")
        var misses: [Int] = [], current = 0
        for line in r.stdout.split(separator: "\n") {
            if line.contains("create:cache_miss") { current += 1 }
            if line.hasPrefix("[") { misses.append(current); current = 0 }  // "[i/n] name": image i is done
        }
        return misses
    }

    @Test("predict bounds oneDNN's primitive cache: many sizes evict old kernels, one size keeps all of them")
    func primitiveCacheIsBounded() throws {
        let dir = try Self.workspace("primcache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("tiny.safetensors")
        // Ten aspect ratios, each its own model input at short side 128 (128x128 ... 128x512, multiples of 32), then
        // the first again. The tiny model builds about 30 primitives per input size, so ten sizes overflow 256.
        let mixed = dir.appendingPathComponent("mixed"), same = dir.appendingPathComponent("same")
        for folder in [mixed, same] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let widths = [48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 48]
        for (i, width) in widths.enumerated() {
            let name = String(format: "%02d.png", i)  // predict takes a folder's files in name order
            try ImageIO.writePNG(EngineRuns.PredictorTests.image(width: width, height: 48, seed: i), to: mixed.appendingPathComponent(name))
            try ImageIO.writePNG(EngineRuns.PredictorTests.image(width: 128, height: 96, seed: i), to: same.appendingPathComponent(name))
        }
        let bounded = try Self.primitiveMisses(mixed, checkpoint: checkpoint, out: dir.appendingPathComponent("o1"), capacity: nil)
        #expect(bounded.count == widths.count && bounded.allSatisfy { $0 > 0 }, "every size builds its kernels: \(bounded)")
        #expect(bounded.dropLast().reduce(0, +) > 256, "the sizes before the repeat overflow the cache: \(bounded)")
        let unbounded = try Self.primitiveMisses(mixed, checkpoint: checkpoint, out: dir.appendingPathComponent("o2"), capacity: "1024")
        #expect(unbounded.last == 0, "the environment variable overrides the bound: \(unbounded)")
        // At one size every kernel stays cached after the first image: no speed is lost.
        let oneSize = try Self.primitiveMisses(same, checkpoint: checkpoint, out: dir.appendingPathComponent("o3"), capacity: nil)
        #expect(oneSize.first ?? 0 > 0 && oneSize.dropFirst().allSatisfy { $0 == 0 }, "\(oneSize)")
    }
}
