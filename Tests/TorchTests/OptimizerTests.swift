import Foundation
import TorchIO
import Testing
@testable import Torch

/// AdamW, SGD and gradient clipping against PyTorch trajectories (Resources/pytorch/optim.safetensors):
/// two parameter groups with different lr / weight decay / hyper-parameters, a frozen parameter that never
/// gets a gradient, gradient clipping to norm 1.5 and a per-step lr factor, as make_fixtures.py runs them.
@Suite("Optimizer")
struct OptimizerTests {
    let f: PyTorchFixture
    static let names = ["w1", "b1", "frozen", "w2"]
    static let steps = 6
    static let lrScale = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    static let saveAfter = 3

    init() throws { f = try PyTorchFixture("optim") }

    /// Fresh leaf copies of the fixture's parameters (initial values, or those after step `after`).
    func params(_ prefix: String? = nil, after step: Int? = nil) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for n in Self.names {
            let source = step.map { "\(prefix!).step\($0).\(n)" } ?? "init.\(n)"
            let t = (try f[source]).clone()
            t.requiresGrad = true
            out[n] = t
        }
        return out
    }

    /// Group 0: w1, b1, frozen; group 1: w2.
    func groups(_ p: [String: Tensor], lr: (Double, Double), weightDecay: (Double, Double), options: GroupOptions) -> [ParamGroup] {
        [ParamGroup(params: [p["w1"]!, p["b1"]!, p["frozen"]!], lr: lr.0, weightDecay: weightDecay.0),
         ParamGroup(params: [p["w2"]!], lr: lr.1, weightDecay: weightDecay.1, options: options)]
    }

    /// Runs steps `range` as the generator does and compares every parameter after every step with PyTorch.
    func run(_ opt: Optimizer, _ p: [String: Tensor], baseLR: [Double], steps range: Range<Int>, _ prefix: String,
             rtol: Double = 0, atol: Double = 0, foreachClip: Bool = false) throws {
        for k in range {
            opt.zeroGrad()
            // d/dp sum(p * G) = G exactly, so each step sees PyTorch's gradients bit for bit.
            var loss = Tensor.scalar(0)
            for n in ["w1", "b1", "w2"] { loss = loss + (p[n]! * (try f["grad.\(k).\(n)"])).sum() }
            loss.backward()
            let norm = clipGradNorm(Self.names.map { p[$0]! }, maxNorm: 1.5, foreach: foreachClip)
            let expectedNorm = try f["\(prefix).norm.\(k)"].item()
            #expect(Float(norm) == Float(expectedNorm), "\(prefix) step \(k): total grad norm")
            for g in opt.groups.indices { opt.groups[g].lr = baseLR[g] * Self.lrScale[k] }
            opt.step()
            for n in Self.names {
                expectClose(p[n]!, try f["\(prefix).step\(k).\(n)"], rtol: rtol, atol: atol, "\(prefix) step \(k) \(n)")
            }
        }
    }

    func makeAdamW(_ p: [String: Tensor]) -> AdamW {
        AdamW(groups: groups(p, lr: (1e-2, 3e-3), weightDecay: (0.05, 0.2), options: GroupOptions(beta1: 0.8, beta2: 0.99, eps: 1e-6)))
    }

    func makeSGD(_ p: [String: Tensor]) -> SGD {
        SGD(groups: groups(p, lr: (0.05, 0.02), weightDecay: (1e-3, 0), options: GroupOptions(momentum: 0.5, dampening: 0.1, nesterov: false)),
            momentum: 0.9, nesterov: true)
    }

    @Test("AdamW trajectory equals PyTorch's over 6 steps")
    func adamWTrajectory() throws {
        let p = try params()
        try run(makeAdamW(p), p, baseLR: [1e-2, 3e-3], steps: 0..<Self.steps, "adamw")
    }

    /// PyTorch's foreach implementation on the CPU is its single-tensor one op for op, so the single-tensor
    /// fixture holds bit for bit; the fused kernels round differently (float32 throughout).
    @Test("AdamW foreach equals PyTorch's trajectory exactly, fused within float rounding", arguments: [OptimizerImplementation.foreach, .fused])
    func adamWImplementations(_ implementation: OptimizerImplementation) throws {
        let p = try params()
        let opt = makeAdamW(p)
        opt.implementation = implementation
        let exact = implementation == .foreach
        try run(opt, p, baseLR: [1e-2, 3e-3], steps: 0..<Self.steps, "adamw", rtol: exact ? 0 : 1e-6, atol: exact ? 0 : 1e-7, foreachClip: true)
    }

    @Test("SGD foreach equals PyTorch's trajectory exactly, fused within float rounding", arguments: [OptimizerImplementation.foreach, .fused])
    func sgdImplementations(_ implementation: OptimizerImplementation) throws {
        let p = try params()
        let opt = makeSGD(p)
        opt.implementation = implementation
        let exact = implementation == .foreach
        try run(opt, p, baseLR: [0.05, 0.02], steps: 0..<Self.steps, "sgd", rtol: exact ? 0 : 1e-6, atol: exact ? 0 : 1e-7, foreachClip: true)
    }

    @Test("SGD with Nesterov momentum, dampening and weight decay equals PyTorch's")
    func sgdMomentumTrajectory() throws {
        let p = try params()
        try run(makeSGD(p), p, baseLR: [0.05, 0.02], steps: 0..<Self.steps, "sgd")
    }

    @Test("plain SGD with weight decay equals PyTorch's")
    func sgdPlainTrajectory() throws {
        let p = try params()
        let opt = SGD(groups: groups(p, lr: (0.1, 0.03), weightDecay: (0.01, 0), options: GroupOptions()))
        try run(opt, p, baseLR: [0.1, 0.03], steps: 0..<Self.steps, "sgd_plain")
        #expect(opt.stateDict().tensors.isEmpty)  // no momentum: no state, as PyTorch
    }

    /// Saves the state after `saveAfter` steps (through a safetensors file), loads it into a new optimizer over
    /// new parameter tensors and continues: the rest of the trajectory must still equal PyTorch's.
    func resume(_ prefix: String, baseLR: [Double], make: ([String: Tensor]) -> Optimizer) throws {
        let p = try params()
        let first = make(p)
        try run(first, p, baseLR: baseLR, steps: 0..<Self.saveAfter, prefix)
        let (tensors, meta) = first.stateDict()

        // Same keys and values as PyTorch's optimizer.state_dict()["state"] at that point.
        let expected = f.tensors.keys.filter { $0.hasPrefix("\(prefix).saved.") }
            .map { String($0.dropFirst("\(prefix).saved.".count)) }
        #expect(Set(tensors.keys) == Set(expected))
        for key in expected {
            expectClose(tensors[key]!, try f["\(prefix).saved.\(key)"], rtol: 0, atol: 0, "\(prefix) state \(key)")
        }

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optim-\(prefix)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var dict = HostTensorDict()
        for key in tensors.keys.sorted() { dict[key] = try tensors[key]!.host() }
        try SafeTensors.write(dict, to: url)
        var restored: [String: Tensor] = [:]
        for (key, host) in try SafeTensors.read(url).items { restored[key] = try Tensor(host: host) }

        let q = try params(prefix, after: Self.saveAfter - 1)
        let second = make(q)
        try second.load(tensors: restored, meta: meta)
        try run(second, q, baseLR: baseLR, steps: Self.saveAfter..<Self.steps, prefix)
    }

    @Test func adamWStateRoundTrip() throws {
        try resume("adamw", baseLR: [1e-2, 3e-3], make: makeAdamW)
    }

    @Test func sgdStateRoundTrip() throws {
        try resume("sgd", baseLR: [0.05, 0.02], make: makeSGD)
    }

    @Test func stateMetaRecordsGroups() throws {
        let p = try params()
        let (_, meta) = makeAdamW(p).stateDict()
        #expect(meta["type.AdamW"] == 1)
        #expect(meta["param_groups"] == 2)
        #expect(meta["param_groups.0.params"] == 3 && meta["param_groups.1.params"] == 1)
        #expect(meta["param_groups.1.lr"] == 3e-3 && meta["param_groups.1.weight_decay"] == 0.2)
        #expect(meta["param_groups.0.beta1"] == 0.9 && meta["param_groups.1.beta1"] == 0.8 && meta["param_groups.1.eps"] == 1e-6)
        // Loading restores the group settings, as PyTorch's load_state_dict does.
        let other = AdamW(groups: groups(try params(), lr: (1, 1), weightDecay: (0, 0), options: GroupOptions()))
        try other.load(tensors: [:], meta: meta)
        #expect(other.groups[1].lr == 3e-3 && other.groups[1].weightDecay == 0.2 && other.groups[1].options.beta2 == 0.99)
    }

    @Test("loading a state that does not fit throws, names every problem and changes nothing")
    func loadMismatches() throws {
        let p = try params()
        let adam = makeAdamW(p)
        try run(adam, p, baseLR: [1e-2, 3e-3], steps: 0..<1, "adamw")
        let (tensors, meta) = adam.stateDict()

        // Another optimizer's state.
        let sgd = makeSGD(try params())
        let e1 = #expect(throws: TorchError.self) { try sgd.load(tensors: tensors, meta: meta) }
        #expect(e1?.message.contains("saved by AdamW, not SGD") == true)

        // Wrong group structure, a wrong shape, an unknown key, an incomplete entry.
        let fresh = makeAdamW(try params())
        var badMeta = meta
        badMeta["param_groups"] = 3
        let e2 = #expect(throws: TorchError.self) { try fresh.load(tensors: tensors, meta: badMeta) }
        #expect(e2?.message.contains("3 parameter groups, the optimizer 2") == true)

        var bad = tensors
        bad["state.0.exp_avg"] = Tensor.zeros([3, 4])
        bad["state.9.exp_avg"] = Tensor.zeros([1])
        bad["state.1.exp_avg_sq"] = nil
        let e3 = #expect(throws: TorchError.self) { try fresh.load(tensors: bad, meta: meta) }
        let message = e3?.message ?? ""
        #expect(message.contains("state.0.exp_avg has shape [3, 4], parameter 0 has shape [4, 3]"))
        #expect(message.contains("unexpected keys: state.9.exp_avg"))
        #expect(message.contains("missing: state.1.exp_avg_sq"))
        #expect(fresh.stateDict().tensors.isEmpty)  // nothing was loaded

        var fewer = meta
        fewer["param_groups.0.params"] = 2
        let e4 = #expect(throws: TorchError.self) { try fresh.load(tensors: tensors, meta: fewer) }
        #expect(e4?.message.contains("group 0 has 2 parameters in the state, 3 in the optimizer") == true)
    }

    // MARK: update rules by hand

    @Test("AdamW: one step by hand")
    func adamWOneStep() {
        let p = Tensor([1] as [Double])
        p.requiresGrad = true
        (p * 0.5).sum().backward()  // grad 0.5
        let opt = AdamW([p], lr: 0.1, weightDecay: 0.01)
        opt.step()
        // decay: 1 * (1 - 0.001) = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25; update 0.1 * 0.5 / (0.5 + 1e-8).
        #expect(Swift.abs(p.item() - (0.999 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-12)
        #expect(p.requiresGrad)  // still a trainable leaf
        let state = opt.stateDict().tensors
        #expect(state["state.0.step"]?.item() == 1)
        #expect(Swift.abs(state["state.0.exp_avg"]!.item() - 0.05) < 1e-15)
    }

    @Test("SGD: momentum and Nesterov by hand; parameters without a gradient are skipped")
    func sgdByHand() {
        let p = Tensor([1] as [Double]), q = Tensor([1] as [Double]), idle = Tensor([4] as [Double])
        for t in [p, q, idle] { t.requiresGrad = true }
        let heavy = SGD([p, idle], lr: 0.1, momentum: 0.9)
        let nesterov = SGD([q], lr: 0.1, momentum: 0.9, nesterov: true)
        for _ in 0..<2 {
            heavy.zeroGrad()
            nesterov.zeroGrad()
            ((p + q) * 0.5).sum().backward()
            heavy.step()
            nesterov.step()
        }
        // Heavy ball: buf 0.5 then 0.95: p = 1 - 0.05 - 0.095. Nesterov: d = g + 0.9 buf: 0.95 then 1.355.
        #expect(Swift.abs(p.item() - 0.855) < 1e-12)
        #expect(Swift.abs(q.item() - (1 - 0.095 - 0.1355)) < 1e-12)
        #expect(idle.item() == 4)
        #expect(heavy.stateDict().tensors.keys.sorted() == ["state.0.momentum_buffer"])
    }

    // MARK: clipping

    @Test func clipGradNormByHand() {
        let a = Tensor([3] as [Double]), b = Tensor([0] as [Double]), none = Tensor([1] as [Double])
        for t in [a, b, none] { t.requiresGrad = true }
        func grads(_ x: Double, _ y: Double) {
            a.zeroGrad()
            b.zeroGrad()
            (a * x + b * y).sum().backward()
        }
        grads(3, 4)
        let total = clipGradNorm([a, b, none], maxNorm: 1)
        #expect(total == 5)
        #expect(Swift.abs(a.grad!.item() - 3 / (5 + 1e-6)) < 1e-15)
        #expect(Swift.abs(b.grad!.item() - 4 / (5 + 1e-6)) < 1e-15)
        grads(3, 4)
        #expect(clipGradNorm([a, b], maxNorm: 10) == 5)
        #expect(a.grad!.item() == 3 && b.grad!.item() == 4)  // below the limit: unchanged
        #expect(clipGradNorm([none], maxNorm: 1) == 0)
    }

    // MARK: groups from a model

    final class TinySegmenter: Module {
        let backbone = Sequential(Linear(3, 4), LayerNorm(4))
        let decodeHead = Linear(4, 2)
        let cls = Tensor.zeros([2])
        override init() {
            super.init()
            register(parameters: ("cls", cls))
            register(modules: ("backbone", backbone), ("decode_head", decodeHead))
        }
    }

    @Test("groups from a model follow mmengine's custom_keys; schedules set each group's lr")
    func groupsFromModel() {
        let model = TinySegmenter()
        let rules = ParamGroupRules(customKeys: ["head": ParamRule(lrMult: 10), "backbone.1": ParamRule(decayMult: 0)])
        let opt = AdamW(model: model, lr: 6e-5, weightDecay: 0.01, rules: rules)
        #expect(opt.groups.map(\.names) == [["cls", "backbone.0.weight", "backbone.0.bias"],
                                            ["backbone.1.weight", "backbone.1.bias"],
                                            ["decode_head.weight", "decode_head.bias"]])
        #expect(opt.groups.map(\.lr) == [6e-5, 6e-5, 6e-5 * 10])
        #expect(opt.groups.map(\.weightDecay) == [0.01, 0, 0.01])
        #expect(opt.groups.map(\.lrMult) == [1, 1, 10])
        #expect(opt.parameters.count == model.parameters.count)
        #expect(opt.groups[2].params[0] === model.decodeHead.weight)

        let schedule = LRSchedule.warmupPoly(baseLR: 6e-5, warmupIters: 10, warmupRatio: 1e-6, maxIters: 100, power: 1, minLR: 0)
        opt.apply(schedule, iteration: 50)
        #expect(opt.groups[0].lr == schedule.lr(at: 50))
        #expect(opt.groups[2].lr == schedule.lr(at: 50, multiplier: 10))
        let sgd = SGD(model: model, lr: 0.01, weightDecay: 1e-4, rules: rules, momentum: 0.9)
        #expect(sgd.groups.map(\.weightDecay) == [1e-4, 0, 1e-4])
    }
}
