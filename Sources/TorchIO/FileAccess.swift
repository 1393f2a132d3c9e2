import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a path cannot be read or written, in a few words ("read-only file system", "is a character device, not a
/// regular file"), for messages that name the path and the reason instead of a Foundation error dump. Every layer
/// that reads or writes user paths uses it, so /dev/zero, FIFOs, /proc files, read-only and full disks read the
/// same everywhere.
public enum FileAccess {
    /// The reason of a Foundation or POSIX error: its POSIX cause when there is one ("No space left on device"),
    /// else the Cocoa code in words, else the localized description; other errors describe themselves.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if ns.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
            case .fileReadNoPermission, .fileWriteNoPermission: return "Permission denied"
            case .fileWriteOutOfSpace: return "No space left on device"
            case .fileWriteVolumeReadOnly: return "Read-only file system"
            case .fileWriteFileExists: return "File exists"
            case .fileReadTooLarge: return "File too large"
            case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "not readable as text"
            default: return ns.localizedDescription
            }
        }
        // This project's errors (TorchIOError, ...) describe themselves; a Foundation error class its localized text.
        return type(of: error as Any) is NSError.Type ? ns.localizedDescription : String(describing: error)
    }

    /// What a path is when it is not a regular file or a folder ("a character device"), from its mode.
    private static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG, S_IFDIR: return nil
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// Why `url` cannot be read as a file, or nil. Checked before opening: reading /dev/zero or a FIFO would never
    /// end, and Foundation reports a device as a permission problem.
    public static func readProblem(_ url: URL) -> String? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return String(cString: strerror(errno)) }
        if let kind = kind(info.st_mode) { return "is \(kind), not a regular file" }
        if info.st_mode & S_IFMT == S_IFDIR { return "is a folder, not a file" }
        if access(url.path, R_OK) != 0 { return String(cString: strerror(errno)) }
        return nil
    }

    /// Why the file at `url` must not be replaced by a new one, or nil: it is a folder or a device. Atomic writers
    /// rename a temporary file over the target, which for root would replace /dev/full itself.
    public static func replaceProblem(_ url: URL) -> String? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        if let kind = kind(info.st_mode) { return "is \(kind), not a regular file" }
        if info.st_mode & S_IFMT == S_IFDIR { return "is a folder, not a file" }
        return nil
    }

    /// Why a file cannot be written at `url`, or nil: `replaceProblem`, or its folder is missing or not writable.
    /// For checks before long work (an evaluation whose results go there).
    public static func writeProblem(_ url: URL) -> String? {
        if let problem = replaceProblem(url) { return problem }
        let folder = url.deletingLastPathComponent()
        return folderWriteProblem(folder).map { "its folder \(folder.path): \($0)" }
    }

    /// Why files cannot be created in the existing folder `dir`, or nil: tried by creating and removing an empty
    /// file (permissions alone miss read-only mounts, and root passes every permission check).
    public static func folderWriteProblem(_ dir: URL) -> String? {
        var info = stat()
        guard stat(dir.path, &info) == 0 else { return String(cString: strerror(errno)) }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "is not a folder" }
        let probe = dir.appendingPathComponent(".swiftseg-write-test-\(UUID().uuidString)")
        let fd = open(probe.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        close(fd)
        unlink(probe.path)
        return nil
    }

    /// Creates `dir` (and its parents) and checks that files can be written in it; the problem, or nil. With mkdir(2)
    /// itself, whose errno says why (Foundation reports a parent that is a file as "error 512").
    public static func prepareFolder(_ dir: URL) -> String? {
        var info = stat()
        if stat(dir.path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            return "is \(kind(info.st_mode) ?? "a file"), not a folder"
        }
        var path = ""
        for component in dir.standardizedFileURL.pathComponents {
            path = component == "/" ? "/" : (path == "/" ? "/" : path + "/") + component
            if mkdir(path, 0o777) != 0 && errno != EEXIST {
                return "cannot create the folder: \(String(cString: strerror(errno)))"
            }
        }
        return folderWriteProblem(dir).map { "cannot write into the folder: \($0)" }
    }
}
