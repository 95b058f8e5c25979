import Foundation
import Model

/// Prints diagnostics the way compilers do: `file:line:column: error: message`, the source line, a
/// caret under the column, and the hint.
struct DiagnosticPrinter {
    var terminal: Terminal
    var root: URL

    func printAll(_ diagnostics: [Diagnostic], to stream: Terminal.Stream) {
        var sources: [String: [Substring]] = [:]
        for diagnostic in diagnostics {
            let label = diagnostic.severity == .error ? terminal.red("error") : terminal.yellow("warning")
            terminal.line(
                "\(terminal.bold(diagnostic.location.description)): \(label): \(Diagnostic.printable(diagnostic.message))",
                to: stream)
            if diagnostic.location.line > 0 {
                let file = diagnostic.location.file
                if sources[file] == nil { sources[file] = Self.lines(of: root.appendingPathComponent(file)) }
                if let lines = sources[file], diagnostic.location.line <= lines.count {
                    let text = String(
                        String.UnicodeScalarView(
                            lines[diagnostic.location.line - 1].prefix(160).unicodeScalars.map {
                                $0 == "\t" ? " " : $0.value < 0x20 || $0.value == 0x7F ? "?" : $0
                            }))
                    let caretColumn = min(max(diagnostic.location.column - 1, 0), text.count)
                    let shown = diagnostic.masksValue ? String(text.prefix(caretColumn)) + "•••" : text
                    terminal.line("  | " + shown, to: stream)
                    terminal.line("  | " + String(repeating: " ", count: caretColumn) + terminal.green("^"), to: stream)
                }
            }
            if let hint = diagnostic.hint {
                terminal.line("  " + terminal.cyan("hint:") + " \(hint)", to: stream)
            }
        }
        let errors = diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty {
            let files = Set(errors.map(\.location.file)).count
            terminal.line(
                "\(errors.count) error\(errors.count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s")",
                to: stream)
        }
    }

    private static func lines(of url: URL) -> [Substring] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            let size = attributes[.size] as? Int, size <= 1 << 20,
            let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
    }
}
