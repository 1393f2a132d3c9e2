// Where a model hands its encoder features to its decode head: the head's FLOP-report scope, and the float32-head
// policy of mixed-precision inference (the encoder under autocast in bf16/fp16, the head in float32).

import Torch

public enum DecodeHeadCall {
    /// While true, heads run with autocast off, on float32 copies of their features.
    @TaskLocal public static var float32: Bool = false

    /// Runs `body` with the float32-head policy set to `on`.
    public static func withFloat32Head<R>(_ on: Bool = true, _ body: () throws -> R) rethrows -> R {
        try $float32.withValue(on, operation: body)
    }

    /// `head(features)` under the "decode_head" scope; in float32 when the policy is on and autocast is active.
    public static func run<R>(_ features: [Tensor], _ head: ([Tensor]) -> R) -> R {
        guard let device = features.first?.device, isActive(on: device) else { return OpRecorder.scope("decode_head") { head(features) } }
        let inputs = features.map { $0.dtype == .float32 ? $0 : $0.to(.float32) }
        return run(on: device) { head(inputs) }
    }

    /// `body` (work on the head's outputs, such as mask classification's semantic inference) under the same scope
    /// and policy.
    public static func run<R>(on device: Device, _ body: () -> R) -> R {
        OpRecorder.scope("decode_head") {
            guard isActive(on: device) else { return body() }
            return Torch.autocast(device: device, enabled: false, body)
        }
    }

    static func isActive(on device: Device) -> Bool { float32 && Torch.isAutocastEnabled(device) }
}
