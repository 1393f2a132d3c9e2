import Foundation
import Testing
@testable import Torch

/// A step-by-step copy of mmengine's recursive (chainable) schedulers, to check the closed forms against.
/// Follows `_ParamScheduler.step()`: `_global_step += 1`; inside `begin..<end` it does `last_step += 1`
/// and sets the lr from `_get_value()`. The constructor calls `step()` once.
private struct MMEngineSimulation {
    enum Kind {
        case linear(startFactor: Double, endFactor: Double)
        case poly(etaMin: Double, power: Double)
        case cosine(etaMin: Double, tMax: Int)
        case step(stepSize: Int, gamma: Double)
    }
    struct Scheduler {
        var kind: Kind
        var begin: Int
        var end: Int
        var globalStep = -1
        var lastStep = -1
        var totalIters: Int { end - begin - 1 }

        mutating func step(_ lr: inout Double, base: Double) {
            globalStep += 1
            guard begin <= globalStep && globalStep < end else { return }
            lastStep += 1
            let t = Double(lastStep)
            switch kind {
            case let .linear(sf, ef):
                if lastStep == 0 {
                    lr *= sf
                } else {
                    lr *= 1 + (ef - sf) / (Double(totalIters) * sf + (t - 1) * (ef - sf))
                }
            case let .poly(etaMin, power):
                if lastStep != 0 {
                    lr = (lr - etaMin) * pow(1 - 1 / Double(totalIters - lastStep + 1), power) + etaMin
                }
            case let .cosine(etaMin, tMax):
                let T = Double(tMax)
                if lastStep == 0 {
                } else if (lastStep - 1 - tMax) % (2 * tMax) == 0 {
                    lr += (base - etaMin) * (1 - cos(Double.pi / T)) / 2
                } else {
                    lr = (1 + cos(Double.pi * t / T)) / (1 + cos(Double.pi * (t - 1) / T)) * (lr - etaMin) + etaMin
                }
            case let .step(stepSize, gamma):
                if lastStep != 0 && lastStep % stepSize == 0 { lr *= gamma }
            }
        }
    }

    var lr: Double
    let base: Double
    var schedulers: [Scheduler]

    /// Builds the schedulers in order; each constructor steps once (global step 0).
    init(base: Double, schedulers: [Scheduler]) {
        self.base = base
        lr = base
        self.schedulers = []
        for var s in schedulers {
            s.step(&lr, base: base)
            self.schedulers.append(s)
        }
    }

    /// The lr of each optimizer step 0...last (ParamSchedulerHook steps every scheduler after each iteration).
    mutating func run(through last: Int) -> [Double] {
        var out = [lr]
        for _ in 0..<last {
            for k in schedulers.indices { schedulers[k].step(&lr, base: base) }
            out.append(lr)
        }
        return out
    }
}

private func close(_ a: Double, _ b: Double, rel: Double = 1e-9) -> Bool {
    abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-20
}

@Suite("LRSchedule")
struct LRScheduleTests {
    static let recipe = LRSchedule.warmupPoly(
        baseLR: 6e-5, warmupIters: 1500, warmupRatio: 1e-6, maxIters: 160_000, power: 1.0, minLR: 0)

    /// The mmseg recipe simulated step by step (LinearLR 0..<1500, PolyLR 1500..<160000).
    static let simulated: [Double] = {
        var sim = MMEngineSimulation(base: 6e-5, schedulers: [
            .init(kind: .linear(startFactor: 1e-6, endFactor: 1.0), begin: 0, end: 1500),
            .init(kind: .poly(etaMin: 0, power: 1.0), begin: 1500, end: 160_000),
        ])
        return sim.run(through: 160_005)
    }()

    @Test("warm-up + poly equals mmengine's recursion", arguments: [0, 1, 2, 750, 1499, 1500, 1501, 80_000, 159_998, 159_999, 160_000, 160_004])
    func recipeMatchesRecursion(iter: Int) {
        let expected = Self.simulated[iter]
        let got = Self.recipe.lr(at: iter)
        #expect(close(got, expected), "iter \(iter): closed form \(got) vs recursion \(expected)")
    }

    @Test func recipeKeyValues() {
        let s = Self.recipe
        #expect(close(s.lr(at: 0), 6e-11))
        #expect(close(s.lr(at: 1499), 6e-5))        // warm-up ends exactly at base at end - 1
        #expect(close(s.lr(at: 1500), 6e-5))        // PolyLR's first step keeps the value
        #expect(close(s.lr(at: 1501), 6e-5 * (1 - 1.0 / 158_499)))
        #expect(close(s.lr(at: 80_000), 6e-5 * (1 - 78_500.0 / 158_499)))
        #expect(s.lr(at: 159_999) == 0)
        #expect(s.lr(at: 200_000) == 0)
        // A head group (lr x10) scales everything with eta_min 0.
        #expect(close(s.lr(at: 80_000, multiplier: 10), 10 * s.lr(at: 80_000)))
    }

    @Test("nonzero eta_min, power 0.9, lr multiplier: still mmengine's recursion")
    func polyWithMinLR() {
        let schedule = LRSchedule.warmupPoly(baseLR: 0.01, warmupIters: 10, warmupRatio: 0.1, maxIters: 200, power: 0.9, minLR: 1e-4)
        var sim = MMEngineSimulation(base: 0.01 * 10, schedulers: [
            .init(kind: .linear(startFactor: 0.1, endFactor: 1.0), begin: 0, end: 10),
            .init(kind: .poly(etaMin: 1e-4, power: 0.9), begin: 10, end: 200),
        ])
        let expected = sim.run(through: 205)
        for i in 0...205 {
            #expect(close(schedule.lr(at: i, multiplier: 10), expected[i]), "iter \(i)")
        }
    }

    @Test("no warm-up: PolyLR from iteration 0")
    func polyWithoutWarmup() {
        let schedule = LRSchedule.warmupPoly(baseLR: 1, warmupIters: 0, warmupRatio: 1e-6, maxIters: 101, power: 2, minLR: 0)
        var sim = MMEngineSimulation(base: 1, schedulers: [.init(kind: .poly(etaMin: 0, power: 2), begin: 0, end: 101)])
        let expected = sim.run(through: 110)
        for i in 0...110 { #expect(close(schedule.lr(at: i), expected[i]), "iter \(i)") }
        #expect(close(schedule.lr(at: 50), 0.25))
    }

    @Test("cosine with warm-up equals mmengine's CosineAnnealingLR recursion")
    func cosineMatchesRecursion() {
        let schedule = LRSchedule.cosine(baseLR: 1e-3, warmupIters: 20, warmupRatio: 1e-3, maxIters: 300, minLR: 1e-5)
        var sim = MMEngineSimulation(base: 1e-3, schedulers: [
            .init(kind: .linear(startFactor: 1e-3, endFactor: 1.0), begin: 0, end: 20),
            .init(kind: .cosine(etaMin: 1e-5, tMax: 280), begin: 20, end: 300),
        ])
        let expected = sim.run(through: 310)
        for i in 0...310 { #expect(close(schedule.lr(at: i), expected[i]), "iter \(i)") }
        // Halfway through the cosine: the mean of base and eta_min.
        #expect(close(schedule.lr(at: 160), (1e-3 + 1e-5) / 2))
    }

    @Test("step decay equals PyTorch's closed form and mmengine's recursion")
    func stepDecay() {
        let schedule = LRSchedule.step(baseLR: 0.1, stepSize: 30, gamma: 0.1)
        var sim = MMEngineSimulation(base: 0.1, schedulers: [.init(kind: .step(stepSize: 30, gamma: 0.1), begin: 0, end: 1_000_000)])
        let expected = sim.run(through: 100)
        for i in 0...100 { #expect(close(schedule.lr(at: i), expected[i]), "iter \(i)") }
        #expect(close(schedule.lr(at: 29), 0.1))
        #expect(close(schedule.lr(at: 30), 0.01))
        #expect(close(schedule.lr(at: 95), 1e-4))
    }

    @Test func oneIterationWarmupKeepsTheRatio() {
        // mmengine's LinearLR with end=1 never leaves its start factor, so PolyLR starts from base * ratio.
        let schedule = LRSchedule.warmupPoly(baseLR: 1, warmupIters: 1, warmupRatio: 0.5, maxIters: 11, power: 1, minLR: 0)
        var sim = MMEngineSimulation(base: 1, schedulers: [
            .init(kind: .linear(startFactor: 0.5, endFactor: 1.0), begin: 0, end: 1),
            .init(kind: .poly(etaMin: 0, power: 1), begin: 1, end: 11),
        ])
        let expected = sim.run(through: 12)
        for i in 0...12 { #expect(close(schedule.lr(at: i), expected[i]), "iter \(i)") }
        #expect(close(schedule.lr(at: 1), 0.5))
    }
}
