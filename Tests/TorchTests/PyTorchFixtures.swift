import Foundation
import TorchIO
import Testing
@testable import Torch

/// The reference tensors that Resources/pytorch/make_fixtures.py wrote with real PyTorch.
struct PyTorchFixture {
    let file: String
    let tensors: [String: Tensor]

    /// Loads `Resources/pytorch/<name>.safetensors` through the package's own safetensors reader.
    init(_ name: String) throws {
        guard let root = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw TorchError("fixture", "test resources are missing from the bundle")
        }
        file = "\(name).safetensors"
        let dict = try SafeTensors.read(root.appendingPathComponent("pytorch").appendingPathComponent(file))
        var tensors: [String: Tensor] = [:]
        for (key, host) in dict.items { tensors[key] = try Tensor(host: host) }
        self.tensors = tensors
    }

    subscript(_ key: String) -> Tensor {
        get throws {
            guard let t = tensors[key] else { throw TorchError("fixture", "\(file) has no tensor '\(key)'") }
            return t
        }
    }
}

/// The elements of `t` as doubles (any dtype, any layout).
func doubles(_ t: Tensor) -> [Double] { t.to(.float64).contiguous().toArray(Double.self) }

/// Expects equal shapes and |a - b| <= atol + rtol * |b| element-wise (b is the reference), reporting the worst element.
func expectClose(_ a: Tensor, _ b: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.shape == b.shape else {
        Issue.record("\(what): shape \(a.shape) != expected \(b.shape)", sourceLocation: sourceLocation)
        return
    }
    let x = doubles(a), y = doubles(b)
    var worst = (index: -1, excess: 0.0)
    for i in x.indices {
        let excess = Swift.abs(x[i] - y[i]) - (atol + rtol * Swift.abs(y[i]))
        if excess > worst.excess || (x[i].isNaN != y[i].isNaN) { worst = (i, Swift.max(excess, 1)) }
    }
    if worst.index >= 0 {
        let i = worst.index
        Issue.record("\(what): element \(i) is \(x[i]), expected \(y[i]) (shape \(a.shape))", sourceLocation: sourceLocation)
    }
}

/// Expects a tensor to hold exactly `values` (compared as doubles) with the given shape.
func expectValues(_ t: Tensor, _ values: [Double], shape: [Int]? = nil, _ what: String = "",
                  sourceLocation: SourceLocation = #_sourceLocation) {
    if let shape { #expect(t.shape == shape, "\(what): shape", sourceLocation: sourceLocation) }
    #expect(doubles(t) == values, "\(what)", sourceLocation: sourceLocation)
}
