import Foundation

/// A minimal reader for the ZIP archives `torch.save` writes: it reads the central directory
/// (ZIP64 included; PyTorch always writes the ZIP64 end records) and hands out stored
/// (uncompressed) entries as slices of the file's bytes, without copying, after checking their
/// CRC-32.
struct ZipReader {
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        /// Zero when the writer did not compute it (`torch.serialization.set_crc32_options(False)`).
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let data: Data
    let entries: [Entry]
    private let index: [String: Int]
    private let fileName: String
    private let operation: String

    private static let endOfCentralDirectory: UInt32 = 0x0605_4b50
    private static let zip64Locator: UInt32 = 0x0706_4b50
    private static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4b50
    private static let centralFileHeader: UInt32 = 0x0201_4b50
    private static let localFileHeader: UInt32 = 0x0403_4b50

    /// True when `data` starts like a ZIP archive.
    static func looksLikeZip(_ data: Data) -> Bool {
        data.littleEndian(UInt32.self, at: 0) == localFileHeader
    }

    /// Parses the central directory. Errors read `operation: fileName: message`.
    init(data: Data, fileName: String, operation: String = "zip") throws {
        self.data = data
        self.fileName = fileName
        self.operation = operation
        func fail(_ message: String) -> TorchIOError { TorchIOError(operation, "\(fileName): \(message)") }

        // The end record is in the last 22 + 65535 (maximum comment) bytes; search backwards.
        let searchStart = max(0, data.count - 22 - 0xFFFF)
        var eocd: Int?
        var candidate = data.count - 22
        while candidate >= searchStart {
            if data.littleEndian(UInt32.self, at: candidate) == Self.endOfCentralDirectory { eocd = candidate; break }
            candidate -= 1
        }
        guard let eocd,
              let count16 = data.littleEndian(UInt16.self, at: eocd + 10),
              let size32 = data.littleEndian(UInt32.self, at: eocd + 12),
              let offset32 = data.littleEndian(UInt32.self, at: eocd + 16)
        else { throw fail("not a valid zip archive (no end-of-central-directory record; truncated file?)") }

        var entryCount = Int(count16)
        var directorySize = Int(size32)
        var directoryOffset = Int(offset32)
        // The ZIP64 locator, when present, sits right before the end record.
        if eocd >= 20, data.littleEndian(UInt32.self, at: eocd - 20) == Self.zip64Locator {
            guard let recordOffset64 = data.littleEndian(UInt64.self, at: eocd - 12),
                  recordOffset64 <= UInt64(data.count), case let recordOffset = Int(recordOffset64),
                  data.littleEndian(UInt32.self, at: recordOffset) == Self.zip64EndOfCentralDirectory,
                  let count64 = data.littleEndian(UInt64.self, at: recordOffset + 32),
                  let size64 = data.littleEndian(UInt64.self, at: recordOffset + 40),
                  let offset64 = data.littleEndian(UInt64.self, at: recordOffset + 48),
                  count64 <= UInt64(Int.max), size64 <= UInt64(Int.max), offset64 <= UInt64(Int.max)
            else { throw fail("corrupt ZIP64 end-of-central-directory record") }
            entryCount = Int(count64)
            directorySize = Int(size64)
            directoryOffset = Int(offset64)
        }
        guard data.bytes(at: directoryOffset, length: directorySize) != nil else {
            throw fail("central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the \(data.count)-byte file")
        }
        // Each central record takes at least 46 bytes: a count beyond that is corrupt.
        guard entryCount <= directorySize / 46 else { throw fail("central directory claims \(entryCount) entries in \(directorySize) bytes") }

        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        var position = directoryOffset
        for entryNumber in 0 ..< entryCount {
            entries.append(try Self.parseCentralRecord(data, at: &position, limit: directoryOffset + directorySize,
                                                        entryNumber: entryNumber, fail: fail))
        }
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() where index[entry.name] == nil { index[entry.name] = i }
        self.index = index
    }

    private static func parseCentralRecord(_ data: Data, at position: inout Int, limit: Int, entryNumber: Int,
                                           fail: (String) -> TorchIOError) throws -> Entry {
        let p = position
        guard p + 46 <= limit,
              data.littleEndian(UInt32.self, at: p) == centralFileHeader,
              let flags = data.littleEndian(UInt16.self, at: p + 8),
              let method = data.littleEndian(UInt16.self, at: p + 10),
              let crc32 = data.littleEndian(UInt32.self, at: p + 16),
              let compressed32 = data.littleEndian(UInt32.self, at: p + 20),
              let uncompressed32 = data.littleEndian(UInt32.self, at: p + 24),
              let nameLength = data.littleEndian(UInt16.self, at: p + 28),
              let extraLength = data.littleEndian(UInt16.self, at: p + 30),
              let commentLength = data.littleEndian(UInt16.self, at: p + 32),
              let offset32 = data.littleEndian(UInt32.self, at: p + 42)
        else { throw fail("corrupt central directory record #\(entryNumber)") }
        let recordLength = 46 + Int(nameLength) + Int(extraLength) + Int(commentLength)
        guard p + recordLength <= limit,
              let nameBytes = data.bytes(at: p + 46, length: Int(nameLength)),
              let extra = data.bytes(at: p + 46 + Int(nameLength), length: Int(extraLength))
        else { throw fail("central directory record #\(entryNumber) runs past the directory") }
        let name = String(decoding: nameBytes, as: UTF8.self)

        // 0xFFFFFFFF fields are replaced, in this order, by 8-byte values in the ZIP64 extra field.
        var uncompressed = Int(uncompressed32)
        var compressed = Int(compressed32)
        var offset = Int(offset32)
        let needs = [uncompressed32 == .max, compressed32 == .max, offset32 == .max]
        if needs.contains(true) {
            guard let zip64 = zip64Extra(extra) else { throw fail("entry '\(name)' lacks its ZIP64 size field") }
            var values = zip64.makeIterator()
            func next() throws -> Int {
                guard let v = values.next(), v <= UInt64(Int.max) else { throw fail("entry '\(name)' has a corrupt ZIP64 field") }
                return Int(v)
            }
            if needs[0] { uncompressed = try next() }
            if needs[1] { compressed = try next() }
            if needs[2] { offset = try next() }
        }
        position = p + recordLength
        return Entry(name: name, method: method, flags: flags, crc32: crc32, compressedSize: compressed,
                     uncompressedSize: uncompressed, localHeaderOffset: offset)
    }

    /// The 8-byte values of the ZIP64 extended-information extra field (id 0x0001), or nil.
    private static func zip64Extra(_ extra: Data) -> [UInt64]? {
        var p = 0
        while let id = extra.littleEndian(UInt16.self, at: p), let size = extra.littleEndian(UInt16.self, at: p + 2) {
            if id == 0x0001 {
                return (0 ..< Int(size) / 8).compactMap { extra.littleEndian(UInt64.self, at: p + 4 + 8 * $0) }
            }
            p += 4 + Int(size)
        }
        return nil
    }

    func entry(named name: String) -> Entry? {
        index[name].map { entries[$0] }
    }

    /// The entry's bytes: a slice of `data`, not a copy (its indices do not start at 0).
    func contents(of entry: Entry) throws -> Data {
        func fail(_ message: String) -> TorchIOError { TorchIOError(operation, "\(fileName): entry '\(entry.name)': \(message)") }
        guard entry.flags & 0x1 == 0 else { throw fail("is encrypted") }
        guard entry.method == 0 else {
            let method = entry.method == 8 ? "deflate-compressed" : "compressed with method \(entry.method)"
            throw fail("is \(method); only stored entries are supported (torch.save never compresses: was the file re-zipped? Re-save it with torch.save)")
        }
        guard entry.compressedSize == entry.uncompressedSize else { throw fail("stored entry has different compressed and uncompressed sizes") }
        // The local header repeats name and extra field with its own lengths (PyTorch pads the
        // extra field to align data); its size fields may be zero (data descriptor), so the
        // central directory's sizes are used.
        let p = entry.localHeaderOffset
        guard data.littleEndian(UInt32.self, at: p) == Self.localFileHeader,
              let nameLength = data.littleEndian(UInt16.self, at: p + 26),
              let extraLength = data.littleEndian(UInt16.self, at: p + 28)
        else { throw fail("local header at offset \(p) is missing or corrupt") }
        guard let bytes = data.bytes(at: p + 30 + Int(nameLength) + Int(extraLength), length: entry.uncompressedSize) else {
            throw fail("\(entry.uncompressedSize) bytes of data run past the end of the \(data.count)-byte file (truncated?)")
        }
        if entry.crc32 != 0, CRC32.checksum(bytes) != entry.crc32 {
            throw fail("CRC-32 mismatch: the data is corrupted")
        }
        return bytes
    }

    /// The contents of the entry named `name`, or nil when there is none.
    func contents(named name: String) throws -> Data? {
        guard let entry = entry(named: name) else { return nil }
        return try contents(of: entry)
    }
}
