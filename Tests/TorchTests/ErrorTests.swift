import Foundation
import TorchIO
import Testing
@testable import Torch

/// Failures reach the caller as `TorchError`s with a clear message through the throwing forms, and the
/// process carries on afterwards.
@Suite("ErrorTests")
struct ErrorTests {
    /// Runs `body`, expects a TorchError from `operation` whose message contains every `fragment`.
    func expectError(_ operation: String, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(operation) to throw", sourceLocation: sourceLocation)
        } catch let error as TorchError {
            #expect(error.operation == operation, sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
            }
            #expect(!error.message.contains("Exception raised from"), "C++ backtrace leaked", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("\(operation): "), sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a TorchError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func shapeMismatch() {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4, 5])
        expectError("matmul", "2x3", "4x5") { _ = try a.checked.matmul(b) }
        expectError("add", "size of tensor a (3)", "tensor b (5)") { _ = try a.checked.add(b) }
        expectError("bmm", "batch1 must be a 3D tensor") { _ = try a.checked.bmm(b) }
        expectError("cat", "Sizes of tensors must match") { _ = try Tensor.Checked.cat([a, b], dim: 0) }
        expectError("view", "view size is not compatible") { _ = try a.transpose(0, 1).checked.view([6]) }
        expectError("reshape", "shape '[4]' is invalid for input of size 6") { _ = try a.checked.reshape([4]) }
        expectError("from_array", "3 values cannot fill shape [2, 2]") { _ = try Tensor.Checked.fromArray([1, 2, 3] as [Float], shape: [2, 2]) }
        expectError("conv2d", "expected input[1, 3, 8, 8] to have 4 channels") {
            _ = try Functional.Checked.conv2d(Tensor.zeros([1, 3, 8, 8]), weight: Tensor.zeros([2, 4, 3, 3]), bias: nil,
                                              stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1)
        }
        expectError("interpolate", "output size must be positive") {
            _ = try Functional.Checked.interpolate(Tensor.zeros([1, 1, 2, 2]), size: (0, 4), mode: .nearest)
        }
        #expect(a.matmul(Tensor.ones([3, 2])).shape == [2, 2])  // and the process goes on
    }

    @Test func wrongDtype() {
        let x = Tensor.zeros([3, 2])
        expectError("index_select", "Expected dtype int32 or int64 for index") { _ = try x.checked.indexSelect(0, Tensor([0, 1] as [Float])) }
        expectError("matmul", "same dtype, but got: float != double") { _ = try x.checked.matmul(Tensor.zeros([2, 2], dtype: .float64)) }
        expectError("cross_entropy", "expected scalar type Long but found Float") {
            _ = try Functional.Checked.crossEntropy(Tensor.zeros([2, 3]), Tensor([0.5, 1] as [Float]), weight: nil,
                                                    ignoreIndex: -100, reduction: .mean, labelSmoothing: 0)
        }
        expectError("bincount", "not implemented for 'Float'") { _ = try Tensor([1.5] as [Float]).checked.bincount() }
        expectError("item", "a Tensor with 6 elements cannot be converted to Scalar") { _ = try x.checked.item() }
    }

    @Test func outOfRangeIndex() {
        let x = Tensor.arange(0, 6, dtype: .float32).reshape(2, 3)
        expectError("select", "index 5 out of range for tensor of size [2, 3] at dimension 0") { _ = try x.checked.select(0, 5) }
        expectError("index_select", "out of DATA bounds", "id=7") { _ = try x.checked.indexSelect(1, Tensor([0, 7] as [Int64])) }
        expectError("narrow", "start (2) + length (2) exceeds dimension size (3)") { _ = try x.checked.narrow(1, start: 2, length: 2) }
        expectError("transpose", "Dimension out of range") { _ = try x.checked.transpose(0, 4) }
        expectError("chunk", "chunks must be positive") { _ = try x.checked.chunk(0, dim: 0) }
        expectError("cross_entropy", "out of bounds") {
            _ = try Functional.Checked.crossEntropy(Tensor.zeros([2, 3]), Tensor([0, 9] as [Int64]), weight: nil,
                                                    ignoreIndex: -100, reduction: .mean, labelSmoothing: 0)
        }
        #expect(x.select(1, 2).toArray(Float.self) == [2, 5])
    }

    @Test func missingFile() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).safetensors")
        #expect {
            _ = try SafeTensors.read(path)
        } throws: { error in
            guard let error = error as? TorchIOError else { return false }
            return error.operation == "safetensors" && error.message.contains("\(path.path): cannot read: No such file or directory")
        }
    }

    @Test func badDeviceString() throws {
        #expect(try Device.parse("cpu") == .cpu)
        #expect(try Device.parse("CPU") == .cpu)
        expectError("device", "unknown device 'gpu'") { _ = try Device.parse("gpu") }
        expectError("device", "unknown device 'cuda:x'") { _ = try Device.parse("cuda:x") }
        // On a machine without CUDA: unavailable, with the reason; with fewer than 8 devices: the count.
        let expected = Torch.cuda.isAvailable ? "only \(Torch.cuda.deviceCount) CUDA device(s) exist" : "CUDA requested but unavailable"
        expectError("device", expected) { _ = try Device.parse("cuda:7") }
        #expect(Tensor.ones([2]).sum().item() == 2)
    }

    // MARK: state dict loading

    final class Net: Module {
        let conv = Conv2d(3, 4, kernel: 3)
        let norm = BatchNorm2d(4)
        let head = Linear(4, 2)
        override init() {
            super.init()
            register(modules: ("conv", conv), ("norm", norm), ("head", head))
        }
    }

    @Test("Module.load(stateDict:strict:) names missing, unexpected and mis-shaped keys")
    func stateDictMismatches() throws {
        let source = Net(), target = Net()
        var dict = Dictionary(uniqueKeysWithValues: source.stateDict())
        dict["head.weight"] = Tensor.zeros([3, 4])       // wrong shape
        dict["norm.running_var"] = nil                   // missing
        dict["head.extra"] = Tensor.zeros([1])           // unexpected
        dict["aux_head.bias"] = Tensor.zeros([2])        // unexpected
        let before = target.conv.weight.clone()

        expectError("load_state_dict", "missing keys (1): norm.running_var",
                    "unexpected keys (2): aux_head.bias, head.extra",
                    "head.weight expects [2, 4], checkpoint has [3, 4]") {
            try target.load(stateDict: dict, strict: true)
        }
        #expect(doubles(target.conv.weight) == doubles(before))  // strict failure changes nothing

        let report = try target.load(stateDict: dict, strict: false)
        #expect(report.missing == ["norm.running_var"])
        #expect(report.unexpected == ["aux_head.bias", "head.extra"])
        #expect(report.shapeMismatches.map(\.key) == ["head.weight"])
        #expect(report.loaded == source.stateDict().count - 2)
        #expect(doubles(target.conv.weight) == doubles(source.conv.weight))
        #expect(!report.isClean)
    }
}
