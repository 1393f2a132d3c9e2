import Foundation
import SegData
import Testing

@Suite struct ImageIOWriteTests {
    /// PNG colour type from the IHDR chunk (byte 25): 0 gray, 2 RGB, 3 palette.
    func pngColourType(_ url: URL) throws -> UInt8 {
        let data = try Data(contentsOf: url)
        return data[25]
    }

    @Test func rgbRoundTrip() throws {
        let dir = try ImageIOFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pixels: [UInt8] = (0..<105).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * 37 + 11) }
        let image = Image(width: 7, height: 5, channels: 3, pixels: pixels)
        let url = dir.appendingPathComponent("rgb.png")
        try ImageIO.writePNG(image, to: url)
        #expect(try pngColourType(url) == 2)
        #expect(try ImageIO.readImage(url) == image)
    }

    @Test func grayRoundTrip() throws {
        let dir = try ImageIOFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 127, 128, 254, 255])
        let url = dir.appendingPathComponent("gray.png")
        try ImageIO.writePNG(image, to: url)
        #expect(try pngColourType(url) == 0)
        #expect(try ImageIO.readImage(url, keepGray: true) == image)
    }

    @Test func paletteLabelRoundTrip() throws {
        let dir = try ImageIOFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = LabelMap(width: 5, height: 4, labels: (0..<20).map { $0 == 19 ? 255 : UInt8($0) })
        let palette = DatasetClasses.cityscapes.palette
        let url = dir.appendingPathComponent("labels.png")
        try ImageIO.writeLabelPNG(labels, palette: palette, to: url)
        #expect(try pngColourType(url) == 3)
        #expect(try ImageIO.readLabelMap(url) == labels)
        // Viewed as an image, each label shows its colour; 255 (beyond the palette) is black.
        let image = try ImageIO.readImage(url)
        #expect(Array(image.pixels[0..<3]) == palette[0])
        #expect(Array(image.pixels[18 * 3..<19 * 3]) == palette[18])
        #expect(Array(image.pixels[19 * 3..<20 * 3]) == [0, 0, 0])
    }

    @Test func grayLabelRoundTrip() throws {
        let dir = try ImageIOFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = LabelMap(width: 4, height: 2, labels: [0, 1, 2, 3, 149, 150, 254, 255])
        let url = dir.appendingPathComponent("labels.png")
        try ImageIO.writeLabelPNG(labels, palette: nil, to: url)
        #expect(try pngColourType(url) == 0)
        #expect(try ImageIO.readLabelMap(url) == labels)
    }

    @Test func badPalettesAreRefused() throws {
        let dir = try ImageIOFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("labels.png")
        let labels = LabelMap(width: 2, height: 1, labels: [0, 1])
        let short = #expect(throws: ImageIOError.self) { try ImageIO.writeLabelPNG(labels, palette: [[1, 2, 3], [4, 5]], to: url) }
        #expect(short?.kind == .invalidArgument)
        let long = #expect(throws: ImageIOError.self) {
            try ImageIO.writeLabelPNG(labels, palette: DatasetClasses.defaultPalette(count: 257), to: url)
        }
        #expect(long?.kind == .invalidArgument)
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func unwritablePathNamesTheFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/out.png")
        let error = #expect(throws: ImageIOError.self) { try ImageIO.writePNG(Image(width: 1, height: 1, channels: 3), to: url) }
        #expect(error?.kind == .writeFailed)
        #expect(error?.description.contains("out.png") == true)
    }
}

@Suite struct ImageIOOverlayTests {
    let image = Image(width: 2, height: 2, channels: 3, pixels: [100, 100, 100, 0, 0, 0, 200, 50, 0, 10, 20, 30])
    // Label 2 has no palette entry and 255 is ignore: both keep the image.
    let labels = LabelMap(width: 2, height: 2, labels: [0, 1, 255, 2])
    let palette: [[UInt8]] = [[255, 0, 0], [0, 255, 0]]

    @Test func halfOpacity() {
        let out = ImageIO.overlay(image: image, labels: labels, palette: palette, opacity: 0.5)
        // 100 * 0.5 + 255 * 0.5 = 177.5 -> 178; 0 * 0.5 + 255 * 0.5 = 127.5 -> 128.
        #expect(out.pixels == [178, 50, 50, 0, 128, 0, 200, 50, 0, 10, 20, 30])
    }

    @Test func opacityEnds() {
        #expect(ImageIO.overlay(image: image, labels: labels, palette: palette, opacity: 0) == image)
        let full = ImageIO.overlay(image: image, labels: labels, palette: palette, opacity: 1)
        #expect(full.pixels == [255, 0, 0, 0, 255, 0, 200, 50, 0, 10, 20, 30])
    }

    @Test func grayImageGivesRGB() {
        let gray = Image(width: 2, height: 1, channels: 1, pixels: [40, 80])
        let out = ImageIO.overlay(image: gray, labels: LabelMap(width: 2, height: 1, labels: [0, 255]), palette: palette, opacity: 0.25)
        // 40 * 0.75 + 255 * 0.25 = 93.75 -> 94; 40 * 0.75 = 30.
        #expect(out.channels == 3)
        #expect(out.pixels == [94, 30, 30, 80, 80, 80])
    }
}

@Suite struct ImageIOOrientationTests {
    // 3x2 gray: 1 2 3 / 4 5 6. Expected outputs from Pillow's exif_transpose operations.
    let source = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])

    @Test(arguments: [
        (1, 3, [1, 2, 3, 4, 5, 6] as [UInt8]),
        (2, 3, [3, 2, 1, 6, 5, 4]),
        (3, 3, [6, 5, 4, 3, 2, 1]),
        (4, 3, [4, 5, 6, 1, 2, 3]),
        (5, 2, [1, 4, 2, 5, 3, 6]),
        (6, 2, [4, 1, 5, 2, 6, 3]),
        (7, 2, [6, 3, 5, 2, 4, 1]),
        (8, 2, [3, 6, 2, 5, 1, 4]),
    ])
    func orientation(_ orientation: Int, width: Int, pixels: [UInt8]) {
        let out = source.applyingEXIFOrientation(orientation)
        #expect(out.width == width && out.height == 6 / width)
        #expect(out.pixels == pixels)
    }

    @Test func rgbPixelsMoveTogether() {
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 4, 5, 6])
        #expect(rgb.applyingEXIFOrientation(6).pixels == [1, 2, 3, 4, 5, 6])
        #expect(rgb.applyingEXIFOrientation(2).pixels == [4, 5, 6, 1, 2, 3])
    }
}
