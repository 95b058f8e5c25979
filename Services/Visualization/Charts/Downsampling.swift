/// Reduces a series to what a chart of some pixel columns can show without changing its shape:
/// per column the first, the lowest, the highest and the last reading (M4), so a spike between
/// two pixels is never averaged away, and nothing is drawn that was not measured.
enum Downsampling {
    struct Point: Equatable, Sendable {
        var time: Int64
        var value: Double
    }

    /// `points` (ordered by time, within `start…end`) reduced to at most four per column.
    static func minMax(_ points: [Point], start: Int64, end: Int64, columns: Int) -> [Point] {
        guard columns > 0, points.count > 4 * columns, end > start else { return points }
        var result: [Point] = []
        result.reserveCapacity(4 * columns)
        let span = Double(end - start)
        var index = 0
        while index < points.count {
            let column = Self.column(of: points[index].time, start: start, span: span, columns: columns)
            var first = index
            var lowest = index
            var highest = index
            var last = index
            index += 1
            while index < points.count,
                Self.column(of: points[index].time, start: start, span: span, columns: columns) == column
            {
                if points[index].value < points[lowest].value { lowest = index }
                if points[index].value > points[highest].value { highest = index }
                last = index
                index += 1
            }
            // In the order they were measured, each once.
            var kept = [first, lowest, highest, last]
            kept.sort()
            first = -1
            for position in kept where position != first {
                result.append(points[position])
                first = position
            }
        }
        return result
    }

    private static func column(of time: Int64, start: Int64, span: Double, columns: Int) -> Int {
        min(max(Int(Double(time - start) / span * Double(columns)), 0), columns - 1)
    }
}
