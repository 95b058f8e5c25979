/// A problem with a GTFS feed: the file and, where there is one, the line (`stop_times.txt:12: …`).
package struct GTFSError: Error, Equatable, CustomStringConvertible, Sendable {
    package var file: String
    package var line: Int?
    package var message: String

    package init(_ file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    package var description: String {
        line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
    }
}

/// Every problem a refused feed has, up to a hundred, in the order they were found.
package struct GTFSRefusal: Error, CustomStringConvertible, Sendable {
    package var problems: [GTFSError]
    /// Problems past the hundred shown.
    package var more: Int

    package var description: String {
        (problems.map(\.description) + (more > 0 ? ["… and \(more) more"] : [])).joined(separator: "\n")
    }
}
