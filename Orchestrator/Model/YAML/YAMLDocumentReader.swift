import Yams

/// Turns the bytes of one YAML file into a ``YAMLNode`` tree, or into one diagnostic that says what is
/// wrong and where.
///
/// ```swift
/// let root = try YAMLDocumentReader().read(bytes, file: "Blueprints/catalog.yaml")
/// ```
package struct YAMLDocumentReader: Sendable {
    package var limits: YAMLLimits

    package init(limits: YAMLLimits = YAMLLimits()) {
        self.limits = limits
    }

    /// Reads a whole file's bytes. Returns `nil` for a file that holds no document at all.
    package func read(_ bytes: [UInt8], file: String) throws(ValidationFailure) -> YAMLNode? {
        guard bytes.count <= limits.maxBytes else {
            throw failure(
                at: .file(file), "the file is \(bytes.count) bytes, more than the limit of \(limits.maxBytes)",
                hint: "Stellwerk's files are a few kilobytes; is this the right file?")
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw failure(at: .file(file), "the file is not UTF-8 text", hint: "is this a binary file?")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        // Windows line endings: the same lines and columns, one way of ending them.
        if text.contains("\r\n") { text = text.replacingOccurrences(of: "\r\n", with: "\n") }
        return try read(text: text, file: file)
    }

    /// Reads YAML text. Returns `nil` for text that holds no document at all.
    package func read(text: String, file: String) throws(ValidationFailure) -> YAMLNode? {
        var prescan = YAMLPrescan(file: file, maxDepth: limits.maxDepth)
        if let problem = prescan.firstProblem(in: text) {
            throw ValidationFailure(diagnostics: [problem])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ValidationFailure(diagnostics: [Self.diagnostic(for: error, file: file, text: text)])
        } catch {
            throw failure(at: .file(file), "the YAML could not be read: \(error)")
        }
        guard let root, !(root.scalar.map { $0.string.isEmpty && $0.style == .plain } ?? false) else { return nil }
        var converter = Converter(file: file, text: text, maxDepth: limits.maxDepth)
        do {
            return try converter.convert(root, depth: 0)
        } catch let problem as Diagnostic {
            throw ValidationFailure(diagnostics: [problem])
        } catch {
            throw failure(at: .file(file), "the YAML could not be read: \(error)")
        }
    }

    /// Where a duplicated key appears the second time: the next line after its first place that starts
    /// with the key at the same column (Yams only reports the first place).
    private static func repeatLocation(of key: String, after first: SourceLocation, in text: String) -> SourceLocation?
    {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        for index in first.line..<lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == " " }.count
            guard indent + 1 == first.column else { continue }
            let rest = line.dropFirst(indent)
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(spelling + ":") {
                return SourceLocation(file: first.file, line: index + 1, column: first.column)
            }
        }
        return nil
    }

    private func failure(at location: SourceLocation, _ message: String, hint: String? = nil) -> ValidationFailure {
        ValidationFailure(diagnostics: [Diagnostic(at: location, message, hint: hint)])
    }

    private static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        func located(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> Diagnostic {
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return Diagnostic(at: SourceLocation(file: file, line: mark.line, column: mark.column), message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if problem.contains("another document") {
                return Diagnostic(
                    at: SourceLocation(file: file, line: mark.line, column: mark.column),
                    "the file holds more than one YAML document", hint: "put each document in a file of its own")
            }
            return located(mark, problem, context)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            let first = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
            let second = duplicates.sorted().first.flatMap { repeatLocation(of: $0, after: first, in: text) }
            return Diagnostic(
                at: second ?? first, "duplicate key \(keys) in one mapping",
                hint: "each key may appear once; the first is at line \(first.line)")
        case .reader(let problem, _, _, _):
            return Diagnostic(at: .file(file), "the file could not be read as YAML text: \(problem)")
        default:
            return Diagnostic(at: .file(file), "the YAML could not be read: \(error)")
        }
    }
}

/// Converts Yams nodes into ours, keeping every location.
private struct Converter {
    let file: String
    let text: String
    let maxDepth: Int
    private var lines: [Substring]?

    init(file: String, text: String, maxDepth: Int) {
        self.file = file
        self.text = text
        self.maxDepth = maxDepth
    }

    mutating func convert(_ node: Node, depth: Int) throws -> YAMLNode {
        let location = location(of: node.mark)
        guard depth <= maxDepth else {
            throw Diagnostic(at: location, "the document nests deeper than \(maxDepth) levels")
        }
        switch node {
        case .scalar(let scalar):
            return .scalar(self.scalar(scalar))
        case .mapping(let mapping):
            var pairs: [YAMLPair] = []
            pairs.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw Diagnostic(
                        at: self.location(of: key.mark), "a mapping key must be a plain name, not \(key.kindName)")
                }
                pairs.append(YAMLPair(key: self.scalar(keyScalar), value: try convert(value, depth: depth + 1)))
            }
            return .mapping(pairs, location)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item, depth: depth + 1)) }
            return .sequence(items, location)
        case .alias:
            throw Diagnostic(at: location, "YAML aliases are not supported")
        }
    }

    private func location(of mark: Mark?) -> SourceLocation {
        guard let mark else { return .file(file) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    private mutating func scalar(_ scalar: Node.Scalar) -> YAMLScalar {
        let style: YAMLScalar.Style
        switch scalar.style {
        case .singleQuoted: style = .singleQuoted
        case .doubleQuoted: style = .doubleQuoted
        case .literal: style = .literal
        case .folded: style = .folded
        case .any, .plain: style = .plain
        }
        var placeholders: [SourceLocation]?
        if style == .literal || style == .folded, let mark = scalar.mark, scalar.string.contains("{{") {
            placeholders = placeholderLocations(inBlockAfter: mark.line)
        }
        return YAMLScalar(
            text: scalar.string, style: style, location: location(of: scalar.mark), placeholderLocations: placeholders)
    }

    /// Where each `{{` stands in the block scalar whose header is on `line` (1-based): its content runs
    /// until the first non-blank line indented no deeper than the header's line.
    private mutating func placeholderLocations(inBlockAfter line: Int) -> [SourceLocation] {
        if lines == nil { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }
        guard let lines, line >= 1, line <= lines.count else { return [] }
        let headerIndent = lines[line - 1].prefix { $0 == " " }.count
        var found: [SourceLocation] = []
        var index = line
        while index < lines.count {
            let content = Array(lines[index].unicodeScalars)
            let indent = content.prefix { $0 == " " }.count
            let isBlank = content.allSatisfy { $0 == " " || $0 == "\t" }
            if !isBlank, indent <= headerIndent { break }
            var column = 0
            while column + 1 < content.count {
                if content[column] == "{", content[column + 1] == "{" {
                    found.append(SourceLocation(file: file, line: index + 1, column: column + 1))
                    column += 2
                } else {
                    column += 1
                }
            }
            index += 1
        }
        return found
    }
}

extension Node {
    fileprivate var kindName: String {
        switch self {
        case .scalar: "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

extension Diagnostic: Error {}
