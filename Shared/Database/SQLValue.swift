/// A value bound to or read from SQL. Both stores keep times as milliseconds since 1970 and
/// documents as JSON text; measured values (a sensor's readings) are doubles.
package enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    /// A finite double (callers reject NaN and infinities: neither database compares them usefully).
    case real(Double)
    case text(String)

    package init(_ text: String?) {
        self = text.map(SQLValue.text) ?? .null
    }

    package init(_ number: Int?) {
        self = number.map { .integer(Int64($0)) } ?? .null
    }

    package var text: String? {
        switch self {
        case .text(let text): text
        case .integer(let number): String(number)
        case .real(let number): String(number)
        case .null: nil
        }
    }

    package var integer: Int? {
        switch self {
        case .integer(let number): Int(number)
        case .real(let number): Int(exactly: number)
        case .text(let text): Int(text)
        case .null: nil
        }
    }

    package var real: Double? {
        switch self {
        case .real(let number): number
        case .integer(let number): Double(number)
        case .text(let text): Double(text)
        case .null: nil
        }
    }
}

/// One result row, by column position.
package struct SQLRow: Sendable {
    package var values: [SQLValue]

    package init(values: [SQLValue]) { self.values = values }

    package subscript(_ index: Int) -> SQLValue {
        index < values.count ? values[index] : .null
    }

    package func text(_ index: Int) -> String { self[index].text ?? "" }
    package func optionalText(_ index: Int) -> String? { self[index].text }
    package func integer(_ index: Int) -> Int { self[index].integer ?? 0 }
    package func optionalInteger(_ index: Int) -> Int? { self[index].integer }
    package func optionalReal(_ index: Int) -> Double? { self[index].real }
}

/// The SQL both databases speak differs in a few places; statements are written once with `$1`
/// placeholders and these hooks.
package enum SQLDialect: Sendable {
    case sqlite, postgres

    /// Appended to a SELECT that must lock the rows it reads until the transaction ends. SQLite
    /// locks the whole database for a write transaction already (BEGIN IMMEDIATE).
    package var forUpdate: String {
        self == .postgres ? " FOR UPDATE" : ""
    }

    /// A test that a column is one of the values of the JSON array in parameter `$number` (a list the
    /// database narrows rows down to, instead of sending every row for the caller to skip):
    /// `"WHERE node " + dialect.isIn(2)`. `integers` for a list of numbers.
    package func isIn(_ number: Int, integers: Bool = false) -> String {
        switch self {
        case .sqlite: " IN (SELECT value FROM json_each($\(number)))"
        case .postgres:
            integers
                ? " IN (SELECT jsonb_array_elements($\(number)::jsonb)::bigint)"
                : " IN (SELECT jsonb_array_elements_text($\(number)::jsonb))"
        }
    }
}

extension SQLValue {
    /// A list for ``SQLDialect/isIn(_:integers:)``: a JSON array of the strings.
    package static func list(_ strings: some Sequence<String>) -> SQLValue {
        .text("[" + strings.map(jsonQuoted).joined(separator: ",") + "]")
    }

    /// A list for ``SQLDialect/isIn(_:integers:)``: a JSON array of the numbers.
    package static func list(_ numbers: some Sequence<Int>) -> SQLValue {
        .text("[" + numbers.map(String.init).joined(separator: ",") + "]")
    }
}

/// `text` as a JSON string, quotes included.
package func jsonQuoted(_ text: String) -> String {
    var quoted = ""
    appendJSONQuoted(text, to: &quoted)
    return quoted
}

/// Appends `text` as a JSON string, quotes included: the platform's one JSON string escaper.
package func appendJSONQuoted(_ text: String, to output: inout String) {
    output += "\""
    // Most texts (names, times, links) need no escape: copied whole, not scalar by scalar.
    var text = text
    let clean = text.withUTF8 { bytes -> Bool in
        var start = 0
        for index in bytes.indices {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if start < index {
                output += String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            switch byte {
            case UInt8(ascii: "\""): output += "\\\""
            case UInt8(ascii: "\\"): output += "\\\\"
            case UInt8(ascii: "\n"): output += "\\n"
            case UInt8(ascii: "\r"): output += "\\r"
            case UInt8(ascii: "\t"): output += "\\t"
            default:
                let hex = String(byte, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            start = index + 1
        }
        if start == 0 { return true }
        if start < bytes.count {
            output += String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
        }
        return false
    }
    if clean { output += text }
    output += "\""
}

/// A blocking connection to one database. Confined to one thread at a time by ``ConnectionPool``.
package protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs one statement with `$1`… parameters and returns its rows.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [SQLRow]
    /// Runs statements without parameters, separated by semicolons (schema changes).
    func executeScript(_ sql: String) throws(DatabaseError)
    func close()
    /// Makes a connection that the server dropped (a restart, a network cut) usable again, before
    /// the pool hands it out; throws `unavailable` while the server cannot be reached.
    func restoreIfBroken() throws(DatabaseError)
}

extension SQLConnection {
    /// A file never drops its connection.
    package func restoreIfBroken() throws(DatabaseError) {}
}

extension SQLConnection {
    /// Runs `body` in a transaction that commits when it returns and rolls back when it throws.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        let sqlite = (self as? SQLiteConnection).flatMap { $0.holdsWriteGate ? nil : $0 }
        sqlite?.writeGate.wait()
        sqlite?.holdsWriteGate = true
        defer {
            sqlite?.holdsWriteGate = false
            sqlite?.writeGate.signal()
        }
        // Through `execute`, whose prepared statements are kept: `executeScript` parses anew each time.
        try execute(dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN", [])
        do {
            let result = try body()
            try execute("COMMIT", [])
            return result
        } catch {
            _ = try? execute("ROLLBACK", [])
            throw error
        }
    }

    package func query(_ sql: String, _ parameters: SQLValue...) throws(DatabaseError) -> [SQLRow] {
        try execute(sql, parameters)
    }

    /// `sql` with its one parameter, narrowed by the database to the rows whose `column` is one of
    /// `list` (``SQLValue/list(_:)-swift.type.method``) when there is one.
    package func query(
        _ sql: String, _ parameter: SQLValue, narrowing column: String, to list: SQLValue?, integers: Bool = false
    ) throws(DatabaseError) -> [SQLRow] {
        guard let list else { return try execute(sql, [parameter]) }
        return try execute(sql + " AND " + column + dialect.isIn(2, integers: integers), [parameter, list])
    }

    @discardableResult
    package func run(_ sql: String, _ parameters: SQLValue...) throws(DatabaseError) -> [SQLRow] {
        try execute(sql, parameters)
    }
}
