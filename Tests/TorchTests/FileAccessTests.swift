import Foundation
import Testing
@testable import TorchIO

/// Special and unwritable paths given to the TorchIO readers and writers: each error names the path and the reason
/// in words (not "You don't have permission" for /dev/zero, not a Foundation error dump), and nothing blocks on a
/// FIFO or replaces a device.
@Suite("File access", .timeLimit(.minutes(1)))
struct FileAccessTests {
    static func fifo(in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("fifo")
        try #require(mkfifo(url.path, 0o644) == 0)
        return url
    }

    @Test("readProblem says what a path is when it cannot be read as a file")
    func readProblems() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("f.bin")
        try Data([1, 2, 3]).write(to: file)
        #expect(FileAccess.readProblem(file) == nil)
        #expect(FileAccess.readProblem(URL(fileURLWithPath: "/dev/zero")) == "is a character device, not a regular file")
        #expect(FileAccess.readProblem(try Self.fifo(in: folder)) == "is a pipe (FIFO), not a regular file")
        #expect(FileAccess.readProblem(folder) == "is a folder, not a file")
        #expect(FileAccess.readProblem(folder.appendingPathComponent("absent")) == "No such file or directory")
        #expect(FileAccess.readProblem(file.appendingPathComponent("below")) == "Not a directory")
    }

    @Test("Foundation errors become their reason: no space, read-only, no such file")
    func reasons() {
        func cocoa(_ code: CocoaError.Code, posix: Int32? = nil) -> Error {
            var info: [String: Any] = [NSFilePathErrorKey: "/x"]
            if let posix { info[NSUnderlyingErrorKey] = NSError(domain: NSPOSIXErrorDomain, code: Int(posix)) }
            return NSError(domain: NSCocoaErrorDomain, code: code.rawValue, userInfo: info)
        }
        #expect(FileAccess.reason(cocoa(.fileWriteVolumeReadOnly, posix: EROFS)) == "Read-only file system")
        #expect(FileAccess.reason(cocoa(.fileWriteOutOfSpace, posix: ENOSPC)) == "No space left on device")
        #expect(FileAccess.reason(cocoa(.fileWriteOutOfSpace)) == "No space left on device")
        #expect(FileAccess.reason(cocoa(.fileWriteVolumeReadOnly)) == "Read-only file system")
        #expect(FileAccess.reason(CocoaError(.fileNoSuchFile)) == "No such file or directory")
        #expect(FileAccess.reason(TorchIOError("zip", "bad")) == "zip: bad")
    }

    @Test("Reading /dev/zero or a FIFO as a checkpoint is an error naming the path, at once")
    func specialFilesAsCheckpoints() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = try Self.fifo(in: folder)
        for url in [URL(fileURLWithPath: "/dev/zero"), fifo] {
            for read in [{ _ = try SafeTensors.read(url) }, { _ = try PyTorchCheckpoint.read(url) }] {
                let error = #expect(throws: TorchIOError.self) { try read() }
                #expect(error?.message.hasPrefix("\(url.path): cannot read: is a ") == true, "\(String(describing: error))")
            }
        }
        // A /proc file is regular but has no size: read, and refused for what it holds, with its whole path.
        let error = #expect(throws: TorchIOError.self) { try SafeTensors.read(URL(fileURLWithPath: "/proc/self/status")) }
        #expect(error?.message.hasPrefix("/proc/self/status: header length") == true, "\(String(describing: error))")
    }

    @Test("Writers refuse to replace a FIFO or a folder (an atomic rename would), and say why a write failed")
    func writersRefuseSpecialTargets() throws {
        let folder = try CheckpointIOTests.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = try Self.fifo(in: folder)
        let dict = CheckpointIOTests.everyDTypeDict()
        for target in [fifo, folder] {
            let error = #expect(throws: TorchIOError.self) { try SafeTensors.write(dict, to: target) }
            #expect(error?.message.contains("\(target.path): cannot write: is a ") == true, "\(String(describing: error))")
            #expect(throws: TorchIOError.self) { try PyTorchCheckpointWriter.write(dict, to: target) }
        }
        var info = stat()
        #expect(lstat(fifo.path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        // A missing folder: the path and the reason.
        let missing = folder.appendingPathComponent("absent/w.safetensors")
        let error = #expect(throws: TorchIOError.self) { try SafeTensors.write(dict, to: missing) }
        #expect(error?.message.contains("No such file or directory") == true && error?.message.contains(missing.path) == true,
                "\(String(describing: error))")
    }
}
