import Foundation
import Testing
@testable import SegData

/// Special files as images and absurd sizes: clear errors, never a hang, a misleading reason or an allocation trap.
@Suite("Hostile files and sizes", .timeLimit(.minutes(1)))
struct HostileFileTests {
    @Test("/dev/zero and a FIFO as images: unreadable, with what they are")
    func specialFilesAsImages() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-special-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("image.png")
        try #require(mkfifo(fifo.path, 0o644) == 0)
        for (url, kind) in [(URL(fileURLWithPath: "/dev/zero"), "a character device"), (fifo, "a pipe (FIFO)")] {
            let error = #expect(throws: ImageIOError.self) { try ImageIO.readImage(url) }
            #expect(error?.kind == .unreadable && error?.path == url.path)
            #expect(error?.reason == "cannot read: is \(kind), not a regular file", "\(String(describing: error))")
        }
        // A label map is never written over a FIFO.
        let write = #expect(throws: ImageIOError.self) { try ImageIO.writeLabelPNG(LabelMap(width: 2, height: 2), palette: nil, to: fifo) }
        #expect(write?.reason.contains("is a pipe (FIFO)") == true)
    }

    @Test("Image sizes beyond what the codecs hold are refused with the size, overflow included")
    func sizeProblems() {
        #expect(Image.sizeProblem(height: 512, width: 1024) == nil)
        #expect(Image.sizeProblem(height: 26_000, width: 26_000) == nil)
        #expect(Image.sizeProblem(height: 100_000, width: 100_000)?.hasPrefix("100000x100000 is larger than the largest image") == true)
        #expect(Image.sizeProblem(height: Int.max, width: 3) != nil)
        #expect(Image.sizeProblem(height: 0, width: 3) != nil)
    }

    @Test("synth of 100000x100000 images is an error, not an allocation trap")
    func absurdSynth() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = #expect(throws: DatasetError.self) {
            try SynthDataset.generate(to: folder, train: 1, val: 1, size: (100_000, 100_000), seed: 0)
        }
        #expect(error?.description.contains("larger than the largest image") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }
}
