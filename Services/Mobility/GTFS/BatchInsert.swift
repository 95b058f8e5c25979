import Database

/// Rows for one table written a few hundred at a time, in one statement each: a million stop times
/// become a few thousand statements instead of a million.
struct BatchInsert {
    let connection: any SQLConnection
    let table: String
    let columns: [String]
    private var pending: [SQLValue] = []
    private var rows = 0
    static let rowsPerStatement = 256

    init(_ connection: any SQLConnection, _ table: String, _ columns: [String]) {
        self.connection = connection
        self.table = table
        self.columns = columns
        pending.reserveCapacity(columns.count * Self.rowsPerStatement)
    }

    mutating func add(_ values: [SQLValue]) throws {
        precondition(values.count == columns.count, "a row for \(table) with the wrong number of values")
        pending.append(contentsOf: values)
        rows += 1
        if rows == Self.rowsPerStatement { try flush() }
    }

    /// Writes what is pending.
    mutating func flush() throws {
        guard rows > 0 else { return }
        var placeholder = 0
        let tuples = (0..<rows).map { _ in
            "("
                + columns.indices.map { _ in
                    placeholder += 1
                    return "$\(placeholder)"
                }.joined(separator: ", ") + ")"
        }
        try connection.execute(
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))",
            pending)
        pending.removeAll(keepingCapacity: true)
        rows = 0
    }
}
