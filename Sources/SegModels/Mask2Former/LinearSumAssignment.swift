/// The linear sum assignment problem (scipy's `linear_sum_assignment`): for an n x m cost matrix, pick
/// min(n, m) entries, at most one per row and per column, with the smallest total.
///
/// Solved as scipy does (Crouse, "On implementing 2D rectangular assignment algorithms", 2016): one shortest
/// augmenting path (Dijkstra on reduced costs with dual variables u, v) per row of the shorter side, O(n²m).
/// Ties are broken in scipy's order, so equal-cost optima come out the same.
public enum LinearSumAssignment {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `cost[i][j]`, rows of equal length. Returns the matched (row, column) pairs sorted by row.
    /// Throws for NaN or -inf entries and when no complete assignment has finite cost.
    public static func solve(_ cost: [[Double]]) throws -> [(row: Int, column: Int)] {
        let rows = cost.count, columns = cost.first?.count ?? 0
        guard cost.allSatisfy({ $0.count == columns }) else { throw Failure(description: "cost rows differ in length") }
        if rows == 0 || columns == 0 { return [] }
        guard !cost.joined().contains(where: { $0.isNaN || $0 == -.infinity }) else {
            throw Failure(description: "cost matrix contains NaN or -inf")
        }
        // Work on the orientation with no more rows than columns.
        let transpose = rows > columns
        let (nr, nc) = transpose ? (columns, rows) : (rows, columns)
        var c = [Double](repeating: 0, count: nr * nc)
        for i in 0..<rows {
            for j in 0..<columns {
                if transpose { c[j * nc + i] = cost[i][j] } else { c[i * nc + j] = cost[i][j] }
            }
        }
        let col4row = try assign(c, rows: nr, columns: nc)
        if transpose {
            // col4row maps the short side (original columns) to original rows; report by original row.
            return col4row.enumerated().map { (row: $0.element, column: $0.offset) }.sorted { $0.row < $1.row }
        }
        return col4row.enumerated().map { (row: $0.offset, column: $0.element) }
    }

    /// nr <= nc. Returns the column of every row.
    static func assign(_ cost: [Double], rows nr: Int, columns nc: Int) throws -> [Int] {
        var u = [Double](repeating: 0, count: nr), v = [Double](repeating: 0, count: nc)
        var shortest = [Double](repeating: .infinity, count: nc)
        var path = [Int](repeating: -1, count: nc)
        var col4row = [Int](repeating: -1, count: nr), row4col = [Int](repeating: -1, count: nc)
        var visitedRows = [Bool](repeating: false, count: nr), visitedColumns = [Bool](repeating: false, count: nc)
        var remaining = [Int](repeating: 0, count: nc)

        for current in 0..<nr {
            // Dijkstra from row `current` over reduced costs until a free column (the sink) is reached.
            var minVal = 0.0
            for it in 0..<nc { remaining[it] = nc - it - 1 }
            var numRemaining = nc
            for i in 0..<nr { visitedRows[i] = false }
            for j in 0..<nc { visitedColumns[j] = false; shortest[j] = .infinity }
            var sink = -1
            var i = current
            while sink == -1 {
                var index = -1
                var lowest = Double.infinity
                visitedRows[i] = true
                for it in 0..<numRemaining {
                    let j = remaining[it]
                    let r = minVal + cost[i * nc + j] - u[i] - v[j]
                    if r < shortest[j] {
                        path[j] = i
                        shortest[j] = r
                    }
                    // Among equal distances prefer a free column: it ends the search (scipy's rule).
                    if shortest[j] < lowest || (shortest[j] == lowest && row4col[j] == -1) {
                        lowest = shortest[j]
                        index = it
                    }
                }
                minVal = lowest
                if minVal == .infinity { throw Failure(description: "cost matrix is infeasible") }
                let j = remaining[index]
                if row4col[j] == -1 { sink = j } else { i = row4col[j] }
                visitedColumns[j] = true
                numRemaining -= 1
                remaining[index] = remaining[numRemaining]
            }

            // Update the duals.
            u[current] += minVal
            for r in 0..<nr where visitedRows[r] && r != current { u[r] += minVal - shortest[col4row[r]] }
            for j in 0..<nc where visitedColumns[j] { v[j] -= minVal - shortest[j] }

            // Augment along the path back to `current`.
            var j = sink
            while true {
                let r = path[j]
                row4col[j] = r
                swap(&col4row[r], &j)
                if r == current { break }
            }
        }
        return col4row
    }
}
