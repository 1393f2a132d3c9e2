import Foundation
import SegData
import Torch

/// Sizes a user gives (crops, test scales, slide windows) checked before anything is allocated: an image of that
/// size must be one SwiftSeg can make (`Image.sizeProblem`), and a float32 batch of them must fit in this machine's
/// memory. Without the check, `--crop 100000` ends in an allocation trap.
enum SizeLimits {
    static func problem(_ size: Size2D, batch: Int = 1) -> String? {
        if let problem = Image.sizeProblem(height: size.height, width: size.width) { return problem }
        let bytes = Double(batch) * 3 * 4 * Double(size.height) * Double(size.width)
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes <= memory else {
            return String(format: "%@ images%@ take %.1f GiB as float32 input alone, more than this machine's %.1f GiB of memory",
                          size.description, batch > 1 ? " in batches of \(batch)" : "", bytes / 1_073_741_824, memory / 1_073_741_824)
        }
        return nil
    }

    /// A keep-ratio resize into `scale`, times `ratio`, gives images of at most (long x short) x ratio^2 pixels.
    static func problem(_ scale: ResizeScale, ratio: Double = 1) -> String? {
        let long = Double(scale.longSide) * ratio, short = Double(scale.shortSide) * ratio
        guard long < 1e9, short < 1e9 else { return "\(scale) x \(ratio) is far too large" }
        return problem(Size2D(Int(short.rounded(.up)), Int(long.rounded(.up))))
    }
}
