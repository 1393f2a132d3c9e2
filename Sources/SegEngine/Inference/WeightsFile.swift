import Foundation
import Torch
import TorchIO

/// Reads model weights from any supported file: safetensors, a PyTorch/mmengine `.pth` checkpoint
/// (its `state_dict`, DDP `module.` prefixes stripped), or a SwiftSeg training checkpoint folder.
public enum WeightsFile {
    public struct Contents {
        public var tensors: HostTensorDict
        public var classes: [String]?
        public var palette: [[Int]]?
    }

    public static func read(_ url: URL) throws -> Contents {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw EngineError("\(url.path): no such file")
        }
        if isDir.boolValue {
            // A SwiftSeg checkpoint folder or a Hugging Face folder: model.safetensors, else pytorch_model.bin.
            for name in ["model.safetensors", "pytorch_model.bin"] where fm.fileExists(atPath: url.appendingPathComponent(name).path) {
                return try read(url.appendingPathComponent(name))
            }
            if fm.fileExists(atPath: url.appendingPathComponent("optimizer.safetensors").path) {
                throw EngineError("\(url.path): a training checkpoint folder without model.safetensors (incomplete or damaged)")
            }
            throw EngineError("\(url.path): a folder without model.safetensors or pytorch_model.bin")
        }
        // Before opening: a FIFO would block the open, /dev/zero never end.
        if let problem = FileAccess.readProblem(url) { throw EngineError("cannot read \(url.path): \(problem)") }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw EngineError.file("read", url.path, error)
        }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        try? handle.close()
        // safetensors starts with a little-endian header length followed by '{'; zip with "PK".
        if head.count >= 2 && head[head.startIndex] == 0x50 && head[head.startIndex + 1] == 0x4B
            || url.pathExtension == "pth" || url.pathExtension == "pt" || url.pathExtension == "bin" {
            let ckpt = try PyTorchCheckpoint.read(url)
            return Contents(tensors: ckpt.stateDict, classes: ckpt.classes, palette: ckpt.palette)
        }
        return Contents(tensors: try SafeTensors.read(url), classes: nil, palette: nil)
    }
}
