/// A CSV reader fed in pieces, as a file is inflated from its archive: RFC 4180 quoting, a UTF-8
/// byte-order mark at the start ignored, lines ended by LF or CRLF. Each record comes out with the
/// line it began on, so every problem is reported as `FILE:LINE`. Broken quoting, invalid UTF-8 and
/// a field or record past its limit are errors, never guessed around.
package struct CSVParser {
    /// One problem, at the line where it was seen.
    package struct Problem: Error, Equatable {
        package var line: Int
        package var message: String
    }

    /// The longest field taken: GTFS holds names and ids, never pages of text.
    static let fieldLimit = 64 * 1024
    /// The most fields in a record.
    static let fieldCountLimit = 256

    private enum State {
        /// At the start of a field.
        case fieldStart
        /// In a field without quotes.
        case unquoted
        /// In a quoted field.
        case quoted
        /// After a quote inside a quoted field: the field's end or the first of two quotes.
        case quoteInQuoted
        /// After a carriage return that ends a record.
        case carriageReturn
    }

    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    /// The line being read, and the line the current record began on.
    private(set) var line = 1
    private var recordLine = 1
    private var atStart = true
    private var bomBytesSeen = 0

    package init() {
        field.reserveCapacity(128)
    }

    /// Reads `bytes`, handing every complete record to `record`.
    package mutating func feed(
        _ bytes: UnsafeRawBufferPointer, record: (_ fields: [String], _ line: Int) throws -> Void
    ) throws {
        var index = 0
        if atStart {
            // A byte-order mark (EF BB BF) may come split across pieces.
            let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
            while index < bytes.count && bomBytesSeen < 3 {
                guard bytes[index] == mark[bomBytesSeen] else { break }
                bomBytesSeen += 1
                index += 1
            }
            if bomBytesSeen == 3 || index < bytes.count {
                if bomBytesSeen > 0 && bomBytesSeen < 3 {
                    throw Problem(line: 1, message: "the file begins with a broken byte-order mark")
                }
                atStart = false
            } else {
                return
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch state {
            case .fieldStart, .unquoted:
                if try endsField(byte, record) { continue }
                if byte == UInt8(ascii: "\"") {
                    guard state == .fieldStart else {
                        throw Problem(line: line, message: "a quote inside a field that does not begin with one")
                    }
                    state = .quoted
                } else {
                    try append(byte)
                    state = .unquoted
                }
            case .quoted:
                if byte == UInt8(ascii: "\"") {
                    state = .quoteInQuoted
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    try append(byte)
                }
            case .quoteInQuoted:
                if try endsField(byte, record) { continue }
                guard byte == UInt8(ascii: "\"") else {
                    throw Problem(line: line, message: "text after the closing quote of a field")
                }
                // Two quotes in a quoted field: one quote of its text.
                try append(byte)
                state = .quoted
            case .carriageReturn:
                guard byte == UInt8(ascii: "\n") else {
                    throw Problem(line: line, message: "a carriage return not followed by a line feed")
                }
                try nextLine(record)
            }
        }
    }

    /// Handles a separator, a line feed or a carriage return outside quotes; false for any other byte.
    private mutating func endsField(
        _ byte: UInt8, _ record: (_ fields: [String], _ line: Int) throws -> Void
    ) throws -> Bool {
        switch byte {
        case UInt8(ascii: ","):
            try endField()
            state = .fieldStart
        case UInt8(ascii: "\n"):
            try endField()
            try nextLine(record)
        case UInt8(ascii: "\r"):
            try endField()
            state = .carriageReturn
        default:
            return false
        }
        return true
    }

    /// Hands over the record that ended and goes on at the next line.
    private mutating func nextLine(_ record: (_ fields: [String], _ line: Int) throws -> Void) throws {
        try endRecord(record)
        line += 1
        recordLine = line
        state = .fieldStart
    }

    /// Ends the input: a last record without a line ending is handed over; an open quote is an error.
    package mutating func finish(record: (_ fields: [String], _ line: Int) throws -> Void) throws {
        switch state {
        case .quoted:
            throw Problem(line: recordLine, message: "a quoted field that is never closed")
        case .carriageReturn:
            try endRecord(record)
        case .fieldStart where fields.isEmpty:
            break
        case .fieldStart, .unquoted, .quoteInQuoted:
            try endField()
            try endRecord(record)
        }
        state = .fieldStart
    }

    private mutating func append(_ byte: UInt8) throws {
        guard field.count < Self.fieldLimit else {
            throw Problem(line: line, message: "a field longer than \(Self.fieldLimit) bytes")
        }
        field.append(byte)
    }

    private mutating func endField() throws {
        guard fields.count < Self.fieldCountLimit else {
            throw Problem(line: recordLine, message: "more than \(Self.fieldCountLimit) fields")
        }
        guard let text = String(validating: field, as: UTF8.self) else {
            throw Problem(line: line, message: "a field that is not valid UTF-8")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(_ record: (_ fields: [String], _ line: Int) throws -> Void) throws {
        // A blank line (one empty field) is no record.
        if !(fields.count == 1 && fields[0].isEmpty) {
            try record(fields, recordLine)
        }
        fields.removeAll(keepingCapacity: true)
    }
}
