import Foundation
import Testing
@testable import SegData

/// Random damage to the checked-in JPEG and PNG fixtures: each case decodes to an image whose pixel count agrees
/// with its size, or throws `ImageIOError`; never a crash or a hang. PNG cases also run with the chunk CRCs
/// recomputed after the damage, so that libpng parses damaged headers and zlib streams instead of stopping at the
/// first CRC. Seeded and deterministic.
@Suite("Fuzz: image decoders", .timeLimit(.minutes(2)))
struct ImageFuzzTests {
    static let jpegs = ["photo.jpg", "gray.jpg", "cmyk.jpg", "exif6.jpg", "truncated_eoi.jpg"]
    static let pngs = ["rgb.png", "gray.png", "rgba.png", "gray16.png", "gray16_small.png", "palette.png", "mask1bit.png"]
    static let casesPerFormat = 2_500

    @Test("Mutated JPEGs decode consistently or throw ImageIOError")
    func jpeg() throws {
        let fixtures = try Self.jpegs.map { try Data(contentsOf: ImageIOFixtures.url($0)) }
        var mutator = ByteMutator(seed: 0x1FE6)
        var decoded = 0
        for n in 0..<Self.casesPerFormat {
            let original = fixtures[n % fixtures.count]
            // The markers (SOI, APP1/EXIF, DQT, SOF, DHT, SOS) sit in the first few hundred bytes.
            let (data, what) = mutator.mutate(original, focus: 0..<min(original.count, 400))
            if try Self.attempt(data, format: .jpeg, "case \(n) (\(what))") { decoded += 1 }
        }
        #expect(decoded > 0 && decoded < Self.casesPerFormat)
    }

    @Test("Mutated PNGs, with and without recomputed CRCs, decode consistently or throw ImageIOError")
    func png() throws {
        let fixtures = try Self.pngs.map { try Data(contentsOf: ImageIOFixtures.url($0)) }
        var mutator = ByteMutator(seed: 0x9A6)
        var decoded = 0
        for n in 0..<Self.casesPerFormat {
            let original = fixtures[n % fixtures.count]
            var (data, what) = mutator.mutate(original, focus: 8..<original.count)
            if n % 3 != 0 {
                data = PNGChunks.withValidCRCs(data)
                what += ", CRCs fixed"
            }
            if try Self.attempt(data, format: .png, "case \(n) (\(what))") { decoded += 1 }
        }
        #expect(decoded > 0 && decoded < Self.casesPerFormat)
    }

    @Test("A PNG header claiming a huge image with no pixel data is an error, not a 2 GiB allocation that is filled")
    func hugeClaimedSize() throws {
        var data = try Data(contentsOf: ImageIOFixtures.url("rgb.png"))
        // IHDR data starts at byte 16: width, height (big-endian).
        for (width, height) in [(UInt32(60_000), UInt32(60_000)), (1 << 31 - 1, 1), (25_000, 25_000)] {
            withUnsafeBytes(of: width.bigEndian) { data.replaceSubrange(16..<20, with: $0) }
            withUnsafeBytes(of: height.bigEndian) { data.replaceSubrange(20..<24, with: $0) }
            let error = #expect(throws: ImageIOError.self) {
                try DecodedImage.decode(PNGChunks.withValidCRCs(data), format: .png, path: "huge.png")
            }
            #expect(error?.path == "huge.png")
            // Past the decoders' 2 GiB of samples the size itself is the reason given (libpng refuses widths over a
            // million itself, as corrupt); below it the missing pixel data is.
            if width == 60_000 {
                #expect(error?.kind == .tooLarge && error?.reason.contains("60000x60000 pixels") == true, "\(String(describing: error))")
            } else {
                #expect(error?.kind == .corrupt, "\(String(describing: error))")
            }
        }
    }

    @Test("A JPEG frame header claiming 65000x65000 pixels is refused as too large before decoding")
    func hugeClaimedJPEG() throws {
        var data = try Data(contentsOf: ImageIOFixtures.url("photo.jpg"))
        // Baseline or progressive frame header: FF C0 / FF C2, length (2), precision (1), height (2), width (2).
        let bytes = [UInt8](data)
        let sof = try #require(bytes.indices.dropLast().first { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) })
        let side = UInt16(65_000).bigEndian
        withUnsafeBytes(of: side) { data.replaceSubrange(sof + 5..<sof + 7, with: $0) }
        withUnsafeBytes(of: side) { data.replaceSubrange(sof + 7..<sof + 9, with: $0) }
        let error = #expect(throws: ImageIOError.self) { try DecodedImage.decode(data, format: .jpeg, path: "huge.jpg") }
        #expect(error?.kind == .tooLarge && error?.reason.contains("65000x65000 pixels") == true, "\(String(describing: error))")
    }

    /// Decodes and converts like `readImage` and `readLabelValues`; true when it decoded.
    static func attempt(_ data: Data, format: ImageFileFormat, _ label: String) throws -> Bool {
        let decoded: DecodedImage
        do {
            decoded = try DecodedImage.decode(data, format: format, path: "fuzz")
        } catch let error as ImageIOError {
            #expect(error.path == "fuzz" && !error.reason.isEmpty, "\(label): \(error)")
            return false
        }
        #expect(decoded.width > 0 && decoded.height > 0, "\(label)")
        let image = decoded.image(keepGray: false)
        #expect(image.pixels.count == image.width * image.height * 3, "\(label): \(image.width)x\(image.height)")
        do {
            let values = try decoded.labelValues(path: "fuzz")
            #expect(values.count == decoded.width * decoded.height, "\(label)")
        } catch is ImageIOError {}  // RGB files are not label maps
        return true
    }
}

/// Seeded damage: bit flips, byte overwrites, big-endian integer overwrites (PNG and JPEG sizes), truncation,
/// splices, insertions and deletions.
struct ByteMutator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    mutating func position(_ count: Int, _ focus: Range<Int>) -> Int {
        let focus = focus.clamped(to: 0..<count)
        return !focus.isEmpty && below(4) != 0 ? focus.lowerBound + below(focus.count) : below(count)
    }

    static let interesting: [UInt32] = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0xFFFF_FFFF]

    mutating func mutate(_ original: Data, focus: Range<Int>) -> (Data, String) {
        var data = Data(original)
        guard data.count > 1 else { return (data, "none") }
        switch below(7) {
        case 0:
            let flips = 1 + below(6)
            for _ in 0..<flips { data[position(data.count, focus)] ^= UInt8(1) << UInt8(below(8)) }
            return (data, "\(flips) bit flips")
        case 1:
            let p = position(data.count, focus)
            data[p] = UInt8(truncatingIfNeeded: Self.interesting[below(Self.interesting.count)])
            return (data, "byte at \(p)")
        case 2:
            let width = [2, 4][below(2)]
            let p = min(position(data.count, focus), data.count - width)
            guard p >= 0 else { return (data, "none") }
            let value = Self.interesting[below(Self.interesting.count)]
            let bytes = width == 4 ? withUnsafeBytes(of: value.bigEndian) { Array($0) }
                : withUnsafeBytes(of: UInt16(truncatingIfNeeded: value).bigEndian) { Array($0) }
            data.replaceSubrange(p..<p + width, with: bytes)
            return (data, "\(width)-byte integer \(value) at \(p)")
        case 3:
            let length = 2 + below(data.count - 2)
            return (data.prefix(length), "truncated to \(length)")
        case 4:
            let length = 1 + below(min(32, data.count - 1))
            let from = below(data.count - length), to = min(position(data.count, focus), data.count - length)
            data.replaceSubrange(to..<to + length, with: data[from..<from + length])
            return (data, "\(length) bytes copied from \(from) to \(to)")
        case 5:
            let p = position(data.count, focus)
            let length = 1 + below(16)
            data.insert(contentsOf: (0..<length).map { _ in UInt8(truncatingIfNeeded: next()) }, at: p)
            return (data, "\(length) bytes inserted at \(p)")
        default:
            let p = position(data.count, focus)
            let length = min(1 + below(16), data.count - p)
            data.removeSubrange(p..<p + length)
            return (data, "\(length) bytes deleted at \(p)")
        }
    }
}

/// Recomputes the CRC of every complete chunk of a (possibly damaged) PNG, so that the damage reaches the parser.
enum PNGChunks {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc(_ bytes: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func withValidCRCs(_ png: Data) -> Data {
        var data = Data(png)
        var p = 8
        while p + 12 <= data.count {
            let length = Int(data[p..<p + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= data.count - p - 12 else { break }
            let value = crc(data[(p + 4)..<(p + 8 + length)])
            withUnsafeBytes(of: value.bigEndian) { data.replaceSubrange((p + 8 + length)..<(p + 12 + length), with: $0) }
            p += 12 + length
        }
        return data
    }
}
