import Foundation
import Testing

/// The checked-in files under Resources/images and the values Pillow decoded from them
/// (expected.json, written by make_fixtures.py next to them).
enum ImageIOFixtures {
    struct Expected: Decodable {
        let width: Int
        let height: Int
        let channels: Int
        /// Pillow's decode as 8-bit samples (RGB, or L for gray files).
        let pixels: [Int]?
        /// Raw label values (16-bit and 1-bit files).
        let values: [Int]?
        /// Palette indices (palette files).
        let indices: [Int]?
    }

    static func url(_ name: String) throws -> URL {
        let resources = try #require(Bundle.module.url(forResource: "Resources", withExtension: nil))
        return resources.appendingPathComponent("images").appendingPathComponent(name)
    }

    static func expected(_ name: String) throws -> Expected {
        let data = try Data(contentsOf: try url("expected.json"))
        let table = try JSONDecoder().decode([String: Expected].self, from: data)
        return try #require(table[name], "no expected values for \(name)")
    }

    /// The largest absolute difference between two sample arrays of the same length.
    static func maxDifference(_ a: [UInt8], _ b: [Int]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).map { abs(Int($0) - $1) }.max() ?? 0
    }

    /// A fresh temporary directory for files a test writes.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseg-imageio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
