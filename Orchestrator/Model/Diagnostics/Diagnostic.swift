/// A place in a source file: the file's path as given to the loader, and a 1-based line and column.
package struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int

    package init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// The location of a file as a whole, for problems that have no better place (a file that is a directory).
    package static func file(_ path: String) -> SourceLocation {
        SourceLocation(file: path, line: 0, column: 0)
    }

    package var description: String {
        line > 0 ? "\(file):\(line):\(column)" : file
    }

    package static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One problem found while loading or validating, with where it is and, when we can tell, what to do.
package struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    package enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    package var severity: Severity
    package var location: SourceLocation
    package var message: String
    package var hint: String?
    /// The value at the location may be a credential: the source excerpt under the message shows the
    /// line up to the value only.
    package var masksValue: Bool

    package init(
        _ severity: Severity = .error, at location: SourceLocation, _ message: String, hint: String? = nil,
        masksValue: Bool = false
    ) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
        self.masksValue = masksValue
    }

    /// `text` with line breaks and other control characters written as escapes, so a value quoted in a
    /// message can neither break the message's line nor reach the terminal as a control sequence.
    package static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `file:line:column: error: message (hint)`, the form compilers use, so editors can jump to it.
    package var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// Collects every diagnostic of a run, so a user sees all problems at once rather than one per attempt.
package struct DiagnosticCollector: Sendable {
    package private(set) var diagnostics: [Diagnostic] = []

    package init() {}

    package mutating func error(
        _ message: String, at location: SourceLocation, hint: String? = nil, masksValue: Bool = false
    ) {
        diagnostics.append(Diagnostic(.error, at: location, message, hint: hint, masksValue: masksValue))
    }

    package mutating func warning(_ message: String, at location: SourceLocation, hint: String? = nil) {
        diagnostics.append(Diagnostic(.warning, at: location, message, hint: hint))
    }

    package mutating func append(contentsOf other: [Diagnostic]) {
        diagnostics.append(contentsOf: other)
    }

    package var hasErrors: Bool {
        diagnostics.contains { $0.severity == .error }
    }

    /// Diagnostics sorted by file, line and column, without repeats.
    package var sorted: [Diagnostic] {
        var seen = Set<Diagnostic>()
        return diagnostics.filter { seen.insert($0).inserted }.sorted {
            ($0.location, $0.message) < ($1.location, $1.message)
        }
    }
}

/// Thrown when loading or validation found errors; carries every diagnostic of the run.
package struct ValidationFailure: Error, Sendable, CustomStringConvertible {
    package var diagnostics: [Diagnostic]

    package init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    package var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
