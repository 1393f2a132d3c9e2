import Foundation
import Logging

/// How the command line shows what the libraries log: messages as plain lines on stdout (progress, results),
/// warnings and errors on stderr with their level; debug output only with SWIFTSEG_LOG_LEVEL=debug.
struct ConsoleLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(label: String) {
        logLevel = ProcessInfo.processInfo.environment["SWIFTSEG_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level >= .warning {
            FileHandle.standardError.write(Data("\(event.level): \(event.message)\n".utf8))
        } else {
            print("\(event.message)")
        }
    }
}

func cliLogger(_ label: String) -> Logger { Logger(label: "swiftseg.\(label)") }
