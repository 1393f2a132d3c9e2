import Foundation
import SegData
import Testing

/// Decoding the Pillow-made fixtures. PNG is lossless, so PNG results must equal Pillow's exactly.
@Suite struct ImageIOReadTests {
    @Test func rgbPNG() throws {
        let expected = try ImageIOFixtures.expected("rgb.png")
        let image = try ImageIO.readImage(ImageIOFixtures.url("rgb.png"))
        #expect(image.width == 4 && image.height == 3 && image.channels == 3)
        #expect(image.pixels.map(Int.init) == expected.pixels)
    }

    @Test func grayPNGExpandsToRGBUnlessKept() throws {
        let expected = try ImageIOFixtures.expected("gray.png")
        let url = try ImageIOFixtures.url("gray.png")
        let gray = try ImageIO.readImage(url, keepGray: true)
        #expect(gray.channels == 1)
        #expect(gray.pixels.map(Int.init) == expected.pixels)
        let rgb = try ImageIO.readImage(url)
        #expect(rgb.channels == 3)
        #expect(rgb.pixels.map(Int.init) == expected.pixels?.flatMap { [$0, $0, $0] })
    }

    @Test func rgbaPNGDropsAlpha() throws {
        let expected = try ImageIOFixtures.expected("rgba.png")
        let image = try ImageIO.readImage(ImageIOFixtures.url("rgba.png"))
        #expect(image.width == 3 && image.height == 2 && image.channels == 3)
        #expect(image.pixels.map(Int.init) == expected.pixels)
    }

    @Test func palettePNGGivesColoursAsImageAndIndicesAsLabels() throws {
        let expected = try ImageIOFixtures.expected("palette.png")
        let url = try ImageIOFixtures.url("palette.png")
        let image = try ImageIO.readImage(url)
        #expect(image.pixels.map(Int.init) == expected.pixels)
        let labels = try ImageIO.readLabelMap(url)
        #expect(labels.width == 5 && labels.height == 2)
        #expect(labels.labels.map(Int.init) == expected.indices)
        #expect(labels.labels[7] == LabelMap.ignoreIndex)
        let values = try ImageIO.readLabelValues(url)
        #expect(values.values.map(Int.init) == expected.indices)
    }

    @Test func oneBitPNGKeepsLabelValuesAndStretchesImages() throws {
        let expected = try ImageIOFixtures.expected("mask1bit.png")
        let url = try ImageIOFixtures.url("mask1bit.png")
        #expect(try ImageIO.readLabelMap(url).labels.map(Int.init) == expected.values)
        #expect(try ImageIO.readImage(url, keepGray: true).pixels.map(Int.init) == expected.pixels)
    }

    @Test func sixteenBitLabelValues() throws {
        let expected = try ImageIOFixtures.expected("gray16.png")
        let url = try ImageIOFixtures.url("gray16.png")
        let read = try ImageIO.readLabelValues(url)
        #expect(read.width == 4 && read.height == 2)
        #expect(read.values.map(Int.init) == expected.values)
        let error = #expect(throws: ImageIOError.self) { try ImageIO.readLabelMap(url) }
        #expect(error?.kind == .labelValueOutOfRange)
        // The first value above 255 is 256, at x 3 of row 0.
        #expect(error?.description.contains("gray16.png") == true)
        #expect(error?.description.contains("256 at pixel (x: 3, y: 0)") == true)
    }

    @Test func sixteenBitLabelMapWithinRange() throws {
        let expected = try ImageIOFixtures.expected("gray16_small.png")
        let labels = try ImageIO.readLabelMap(ImageIOFixtures.url("gray16_small.png"))
        #expect(labels.labels.map(Int.init) == expected.values)
    }

    @Test func sixteenBitImageIsScaledTo8Bits() throws {
        // Values 0, 1, 255, 256, 1000, 65535, 300, 2 scaled by 255/65535 and rounded.
        let image = try ImageIO.readImage(ImageIOFixtures.url("gray16.png"), keepGray: true)
        #expect(image.pixels == [0, 0, 1, 1, 4, 255, 1, 0])
    }

    // JPEG decoders may legitimately differ by a level or two: Pillow bundles its own
    // libjpeg-turbo build, ours is the system one, and the IDCT/upsampling code paths (SIMD or
    // not) round differently. A real decoding bug (wrong colour conversion, shifted rows) is far
    // larger than 2.
    static let jpegTolerance = 2

    @Test func baselineJPEGMatchesPillow() throws {
        let expected = try ImageIOFixtures.expected("photo.jpg")
        let image = try ImageIO.readImage(ImageIOFixtures.url("photo.jpg"))
        #expect(image.width == 16 && image.height == 12 && image.channels == 3)
        #expect(ImageIOFixtures.maxDifference(image.pixels, try #require(expected.pixels)) <= Self.jpegTolerance)
    }

    @Test func grayJPEG() throws {
        let expected = try ImageIOFixtures.expected("gray.jpg")
        let url = try ImageIOFixtures.url("gray.jpg")
        let gray = try ImageIO.readImage(url, keepGray: true)
        #expect(gray.channels == 1)
        #expect(ImageIOFixtures.maxDifference(gray.pixels, try #require(expected.pixels)) <= Self.jpegTolerance)
        #expect(try ImageIO.readImage(url).channels == 3)
    }

    @Test func formatComesFromMagicBytesNotExtension() throws {
        let disguised = try ImageIO.readImage(ImageIOFixtures.url("jpeg_named.png"), keepGray: true)
        let original = try ImageIO.readImage(ImageIOFixtures.url("gray.jpg"), keepGray: true)
        #expect(disguised == original)
    }

    @Test func cmykJPEGMatchesPillow() throws {
        let expected = try ImageIOFixtures.expected("cmyk.jpg")
        let image = try ImageIO.readImage(ImageIOFixtures.url("cmyk.jpg"))
        #expect(image.channels == 3)
        #expect(ImageIOFixtures.maxDifference(image.pixels, try #require(expected.pixels)) <= Self.jpegTolerance)
    }

    @Test func exifOrientation6IsRotatedClockwise() throws {
        let expected = try ImageIOFixtures.expected("exif6.jpg")
        let image = try ImageIO.readImage(ImageIOFixtures.url("exif6.jpg"))
        // Stored 32x16 with red, green / blue, white quadrants; viewed 16x32.
        #expect(image.width == 16 && image.height == 32)
        func pixel(_ x: Int, _ y: Int) -> [Int] {
            let i = (y * image.width + x) * 3
            return image.pixels[i..<i + 3].map(Int.init)
        }
        func near(_ a: [Int], _ b: [Int]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 8 } }
        #expect(near(pixel(1, 1), [0, 0, 255]))        // top-left: was bottom-left (blue)
        #expect(near(pixel(14, 1), [255, 0, 0]))       // top-right: was top-left (red)
        #expect(near(pixel(1, 30), [255, 255, 255]))   // bottom-left: was bottom-right (white)
        #expect(near(pixel(14, 30), [0, 255, 0]))      // bottom-right: was top-right (green)
        #expect(ImageIOFixtures.maxDifference(image.pixels, try #require(expected.pixels)) <= Self.jpegTolerance)
    }
}

/// Every failure is a thrown ImageIOError that names the file; nothing traps.
@Suite struct ImageIOErrorTests {
    @Test(arguments: [
        ("truncated.jpg", ImageIOError.Kind.corrupt),
        ("truncated_eoi.jpg", .corrupt),
        ("truncated.png", .corrupt),
        ("garbage.png", .unknownFormat),
    ])
    func badFilesThrowNamingTheFile(name: String, kind: ImageIOError.Kind) throws {
        let url = try ImageIOFixtures.url(name)
        let error = #expect(throws: ImageIOError.self) { try ImageIO.readImage(url) }
        #expect(error?.kind == kind)
        #expect(error?.description.contains(name) == true)
        let labelError = #expect(throws: ImageIOError.self) { try ImageIO.readLabelMap(url) }
        #expect(labelError?.description.contains(name) == true)
    }

    @Test func truncatedJPEGMessageSaysWhy() throws {
        let error = #expect(throws: ImageIOError.self) { try ImageIO.readImage(ImageIOFixtures.url("truncated.jpg")) }
        #expect(error?.reason.contains("Premature end of JPEG file") == true)
    }

    @Test func missingFile() throws {
        let url = try ImageIOFixtures.url("no-such-file.png")
        let error = #expect(throws: ImageIOError.self) { try ImageIO.readImage(url) }
        #expect(error?.kind == .fileNotFound)
        #expect(error?.description.contains("no-such-file.png") == true)
    }

    @Test func directoryIsNotAnImage() throws {
        let error = #expect(throws: ImageIOError.self) { try ImageIO.readImage(ImageIOFixtures.url("")) }
        #expect(error?.kind == .unreadable)
    }

    @Test func colourLabelFilesAreRefused() throws {
        let rgb = #expect(throws: ImageIOError.self) { try ImageIO.readLabelMap(ImageIOFixtures.url("rgb.png")) }
        #expect(rgb?.kind == .unsupported)
        #expect(rgb?.description.contains("rgb.png: label PNG is RGB") == true)
        let jpeg = #expect(throws: ImageIOError.self) { try ImageIO.readLabelValues(ImageIOFixtures.url("photo.jpg")) }
        #expect(jpeg?.kind == .unsupported)
    }
}
