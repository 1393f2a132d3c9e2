import Foundation
import Testing
@testable import SegModels

/// The assignment solver against hand-checked cases, scipy's documented results and brute force.
@Suite("Linear sum assignment (Hungarian matching solver)")
struct LinearSumAssignmentTests {
    static func total(_ cost: [[Double]], _ pairs: [(row: Int, column: Int)]) -> Double {
        pairs.reduce(0) { $0 + cost[$1.row][$1.column] }
    }

    /// The best total over every injective map of the shorter side into the longer one.
    static func bruteForce(_ cost: [[Double]]) -> Double {
        let rows = cost.count, columns = cost[0].count
        let transpose = rows > columns
        let (n, m) = transpose ? (columns, rows) : (rows, columns)
        func entry(_ i: Int, _ j: Int) -> Double { transpose ? cost[j][i] : cost[i][j] }
        var best = Double.infinity
        var used = [Bool](repeating: false, count: m)
        func search(_ i: Int, _ sum: Double) {
            if i == n { best = min(best, sum); return }
            for j in 0..<m where !used[j] {
                used[j] = true
                search(i + 1, sum + entry(i, j))
                used[j] = false
            }
        }
        search(0, 0)
        return best
    }

    static func checkValid(_ pairs: [(row: Int, column: Int)], rows: Int, columns: Int) {
        #expect(pairs.count == min(rows, columns))
        #expect(Set(pairs.map(\.row)).count == pairs.count && Set(pairs.map(\.column)).count == pairs.count)
        #expect(pairs.map(\.row) == pairs.map(\.row).sorted(), "pairs are sorted by row")
    }

    @Test("scipy's documented 3x3 example: rows 0,1,2 -> columns 1,0,2, total 5")
    func scipyExample() throws {
        let cost: [[Double]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        let pairs = try LinearSumAssignment.solve(cost)
        #expect(pairs.map(\.row) == [0, 1, 2])
        #expect(pairs.map(\.column) == [1, 0, 2])
        #expect(Self.total(cost, pairs) == 5)
    }

    @Test("hand-checked: the greedy choice is wrong, the optimum takes the second-best in row 0")
    func greedyIsWrong() throws {
        // Greedy takes (0,0)=1 and then must pay (1,1)=100; the optimum is (0,1)+(1,0) = 2 + 3.
        let cost: [[Double]] = [[1, 2], [3, 100]]
        let pairs = try LinearSumAssignment.solve(cost)
        #expect(pairs.map(\.column) == [1, 0])
        #expect(Self.total(cost, pairs) == 5)
    }

    @Test("rectangular: more rows than columns (queries x ground truths) and the transpose")
    func rectangular() throws {
        // 4 queries, 2 ground truths: query 2 is best for gt 0, query 0 for gt 1.
        let tall: [[Double]] = [[5, 0.5], [4, 3], [0.1, 2], [9, 9]]
        let pairs = try LinearSumAssignment.solve(tall)
        #expect(pairs.map(\.row) == [0, 2] && pairs.map(\.column) == [1, 0])
        let wide = (0..<2).map { j in (0..<4).map { tall[$0][j] } }
        let transposed = try LinearSumAssignment.solve(wide)
        #expect(transposed.map(\.row) == [0, 1] && transposed.map(\.column) == [2, 0])
    }

    @Test("ties resolve as scipy's: an all-equal matrix gives the identity")
    func ties() throws {
        let pairs = try LinearSumAssignment.solve([[Double]](repeating: [1, 1, 1, 1], count: 4))
        #expect(pairs.map(\.column) == [0, 1, 2, 3])
    }

    @Test("random matrices up to 7x7 and rectangular ones: optimal against brute force", arguments: [
        (1, 1), (2, 2), (3, 3), (5, 5), (7, 7), (2, 5), (5, 2), (3, 7), (7, 3), (6, 4),
    ])
    func bruteForce(_ size: (Int, Int)) throws {
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<20 {
            // Integer costs make ties common, real ones make them rare: test both.
            let cost = (0..<size.0).map { _ in
                (0..<size.1).map { _ in trial % 2 == 0 ? Double(Int.random(in: 0...4, using: &generator)) : Double.random(in: -1...1, using: &generator) }
            }
            let pairs = try LinearSumAssignment.solve(cost)
            Self.checkValid(pairs, rows: size.0, columns: size.1)
            #expect(abs(Self.total(cost, pairs) - Self.bruteForce(cost)) < 1e-9, "cost \(cost)")
        }
    }

    @Test("infinite entries are avoided when possible; NaN and infeasible matrices are errors")
    func invalid() throws {
        let pairs = try LinearSumAssignment.solve([[.infinity, 1], [2, .infinity]])
        #expect(pairs.map(\.column) == [1, 0])
        #expect(throws: LinearSumAssignment.Failure.self) { try LinearSumAssignment.solve([[.infinity, .infinity], [1, 2]]) }
        #expect(throws: LinearSumAssignment.Failure.self) { try LinearSumAssignment.solve([[.nan, 1], [2, 3]]) }
        #expect(try LinearSumAssignment.solve([]).isEmpty)
    }
}
