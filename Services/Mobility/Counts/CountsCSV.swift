package import Foundation

/// The count feeds' format: CSV with a header naming at least `station`, `mode`, `start`, `end` and
/// `count`, one row per station, mode and interval, times in ISO 8601 with their offset:
///
/// ```
/// station,mode,start,end,count
/// kl-fackelrondell,bicycles,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,12
/// ```
///
/// Other columns (a counter's serial number, a hashed device address) are never read past the
/// parser, so no device identifier reaches the store. A row naming a station or mode the stations
/// file does not know is left out with why; a row that is wrong in itself refuses the whole body,
/// since a feed that is broken in one place is not trusted in the others.
package enum CountsCSV {
    static let columns = ["station", "mode", "start", "end", "count"]
    /// The most rows one body may have: a day of quarter hours for 700 station modes.
    static let maxRows = 70_000
    /// The longest interval one count may cover.
    static let maxInterval: TimeInterval = 86_400
    static let maxCount = 10_000_000

    package struct Reading: Sendable {
        package var counts: [TrafficCount] = []
        /// Rows left out, with why.
        package var leftOut: [String] = []
    }

    package static func parse(
        _ body: Data, stations: [String: CountingStation], now: Date
    ) throws(SourceRefusal) -> Reading {
        var parser = CSVParser()
        var reading = Reading()
        var positions: [Int]?
        var rows = 0
        let take = { (fields: [String], line: Int) throws in
            guard let columns = positions else {
                let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                let found = Self.columns.map { names.firstIndex(of: $0) }
                guard found.allSatisfy({ $0 != nil }) else {
                    let missing = zip(Self.columns, found).filter { $0.1 == nil }.map(\.0)
                    throw CSVParser.Problem(
                        line: line, message: "the header lacks the column(s) \(missing.joined(separator: ", "))")
                }
                positions = found.compactMap { $0 }
                return
            }
            rows += 1
            guard rows <= Self.maxRows else {
                throw CSVParser.Problem(line: line, message: "more than \(Self.maxRows) rows")
            }
            guard fields.count > columns.max() ?? 0 else {
                throw CSVParser.Problem(line: line, message: "\(fields.count) fields, fewer than the header names")
            }
            let value = columns.map { fields[$0].trimmingCharacters(in: .whitespaces) }
            guard let start = Self.time(value[2]) else {
                throw CSVParser.Problem(line: line, message: "start '\(value[2].prefix(40))' is not an ISO 8601 time")
            }
            guard let end = Self.time(value[3]) else {
                throw CSVParser.Problem(line: line, message: "end '\(value[3].prefix(40))' is not an ISO 8601 time")
            }
            guard end > start, end.timeIntervalSince(start) <= Self.maxInterval else {
                throw CSVParser.Problem(line: line, message: "end must lie after start, at most a day later")
            }
            guard value[4].utf8.count <= 9, let count = Int(value[4]), (0...Self.maxCount).contains(count) else {
                throw CSVParser.Problem(
                    line: line,
                    message: "count '\(value[4].prefix(40))' is not a whole number from 0 to \(Self.maxCount)")
            }
            guard let mode = CountingStation.Mode(rawValue: value[1]) else {
                throw CSVParser.Problem(
                    line: line,
                    message:
                        "mode '\(value[1].prefix(40))' is not one of \(CountingStation.Mode.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            guard let station = stations[value[0]] else {
                reading.leftOut.append("line \(line): station '\(value[0].prefix(80))' is not in the stations file")
                return
            }
            guard station.modes.contains(mode) else {
                reading.leftOut.append("line \(line): station '\(station.id)' does not count \(mode.rawValue)")
                return
            }
            guard end <= now.addingTimeInterval(300) else {
                reading.leftOut.append("line \(line): the interval ends in the future")
                return
            }
            reading.counts.append(TrafficCount(station: station.id, mode: mode, start: start, end: end, count: count))
        }
        do {
            try body.withUnsafeBytes { bytes in try parser.feed(bytes, record: take) }
            try parser.finish(record: take)
        } catch let problem as CSVParser.Problem {
            throw SourceRefusal("line \(problem.line): \(problem.message)")
        } catch {
            throw SourceRefusal("\(error)")
        }
        guard positions != nil else { throw SourceRefusal("the body is empty: a header is needed") }
        return reading
    }

    /// An ISO 8601 time with its offset (`2026-12-07T06:00:00Z`, `…+01:00`), fractions of a second allowed.
    static func time(_ text: String) -> Date? {
        guard text.utf8.count <= 40 else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
