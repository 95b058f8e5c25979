import Foundation

/// One file's header: which column holds which field. Unknown columns are allowed (GTFS grows);
/// a required one missing is an error at line 1.
struct GTFSHeader {
    let file: String
    private let columns: [String: Int]

    init(file: String, fields: [String], required: [String]) throws(GTFSError) {
        self.file = file
        var columns: [String: Int] = [:]
        for (index, field) in fields.enumerated() {
            let name = field.trimmingCharacters(in: .whitespaces)
            guard columns[name] == nil else { throw GTFSError(file, line: 1, "the column \(name) appears twice") }
            columns[name] = index
        }
        self.columns = columns
        let missing = required.filter { columns[$0] == nil }
        guard missing.isEmpty else {
            throw GTFSError(
                file, line: 1,
                "the required column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") missing"
            )
        }
    }

    func has(_ column: String) -> Bool { columns[column] != nil }

    /// A row of this file, read field by field; every problem names the file, line and column.
    func row(_ fields: [String], line: Int) throws(GTFSError) -> GTFSRow {
        guard fields.count == columns.count else {
            throw GTFSError(file, line: line, "\(fields.count) fields where the header has \(columns.count)")
        }
        return GTFSRow(file: file, line: line, fields: fields, columns: columns)
    }
}

/// One row of a GTFS file, with typed readers that say what is wrong and where.
struct GTFSRow {
    let file: String
    let line: Int
    let fields: [String]
    let columns: [String: Int]

    func problem(_ message: String) -> GTFSError { GTFSError(file, line: line, message) }

    /// The field's text, nil when the column is absent or the field empty.
    func optional(_ column: String) -> String? {
        guard let index = columns[column] else { return nil }
        let text = fields[index]
        return text.isEmpty ? nil : text
    }

    func required(_ column: String) throws(GTFSError) -> String {
        guard let text = optional(column) else { throw problem("\(column) is empty") }
        return text
    }

    /// A whole number in `range`, or nil for an empty field.
    func integer(_ column: String, in range: ClosedRange<Int>) throws(GTFSError) -> Int? {
        guard let text = optional(column) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw problem(
                "\(column) '\(text.prefix(40))' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A coordinate in `range` degrees.
    func degrees(_ column: String, in range: ClosedRange<Double>) throws(GTFSError) -> Double? {
        guard let text = optional(column) else { return nil }
        guard text.utf8.count <= 32, let value = Double(text), value.isFinite, range.contains(value) else {
            throw problem(
                "\(column) '\(text.prefix(40))' is not a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A service date (`YYYYMMDD`) as that number.
    func date(_ column: String) throws(GTFSError) -> Int? {
        guard let text = optional(column) else { return nil }
        guard let date = GTFSDate(text) else { throw problem("\(column) '\(text.prefix(40))' is not a date YYYYMMDD") }
        return date.number
    }

    /// A time of the service day (`H:MM:SS`, past 24:00:00 after midnight) in seconds.
    func time(_ column: String) throws(GTFSError) -> Int? {
        guard let text = optional(column) else { return nil }
        guard let seconds = GTFSTime.seconds(text) else {
            throw problem("\(column) '\(text.prefix(40))' is not a time HH:MM:SS (hours may pass 24 after midnight)")
        }
        return seconds
    }
}

/// A service day, `YYYYMMDD`.
package struct GTFSDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    package let year: Int
    package let month: Int
    package let day: Int

    package init?(_ text: String) {
        let digits = Array(text.utf8)
        guard digits.count == 8, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let value = Int(text)!
        year = value / 10000
        month = value / 100 % 100
        day = value % 100
        guard (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day) else { return nil }
    }

    package init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    package var number: Int { year * 10000 + month * 100 + day }
    package var text: String { String(number) }
    package var description: String { text }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    package static func < (a: GTFSDate, b: GTFSDate) -> Bool { a.number < b.number }
}

/// Times of a service day.
enum GTFSTime {
    /// Hours past which a time is refused: trips run past midnight, never for days.
    static let hourLimit = 72

    /// `H:MM:SS` or `HH:MM:SS` in seconds since the service day's noon minus twelve hours.
    static func seconds(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, (1...2).contains(parts[0].count), parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), let seconds = Int(parts[2]),
            hours < hourLimit, minutes < 60, seconds < 60
        else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }

    static func text(_ seconds: Int) -> String {
        let hours = seconds / 3600
        return (hours < 10 ? "0" : "") + "\(hours):" + String(format: "%02d:%02d", seconds / 60 % 60, seconds % 60)
    }
}
