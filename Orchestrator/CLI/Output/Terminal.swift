import Foundation

/// Where output goes and whether it may be coloured: only on a terminal, and never with NO_COLOR set.
struct Terminal {
    enum Stream {
        case standardOutput, standardError
    }

    var colors: Bool

    static func detect() -> Terminal {
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Terminal(colors: !noColor && isatty(STDOUT_FILENO) == 1)
    }

    func write(_ text: String, to stream: Stream = .standardOutput) {
        let data = Data(text.utf8)
        switch stream {
        case .standardOutput: FileHandle.standardOutput.write(data)
        case .standardError: FileHandle.standardError.write(data)
        }
    }

    func line(_ text: String = "", to stream: Stream = .standardOutput) {
        write(text + "\n", to: stream)
    }

    // MARK: Styles

    func styled(_ text: String, _ code: String) -> String {
        colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func bold(_ text: String) -> String { styled(text, "1") }
    func dim(_ text: String) -> String { styled(text, "2") }
    func red(_ text: String) -> String { styled(text, "31") }
    func green(_ text: String) -> String { styled(text, "32") }
    func yellow(_ text: String) -> String { styled(text, "33") }
    func cyan(_ text: String) -> String { styled(text, "36") }
}

extension Terminal {
    /// A table with a header, columns padded to their widest cell.
    func table(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        line(bold(format(header)))
        for row in rows { line(format(row)) }
    }
}
