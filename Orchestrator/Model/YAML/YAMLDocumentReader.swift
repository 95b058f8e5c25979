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
            throw ValidationFailure(diagnostics: [Self.diagnostic(for: error, file: file)])
        } catch {
            throw failure(at: .file(file), "the YAML could not be read: \(error)")
        }
        guard let root else { return nil }
        var converter = Converter(file: file, text: text, maxDepth: limits.maxDepth)
        do {
            return try converter.convert(root, depth: 0)
        } catch let problem as Diagnostic {
            throw ValidationFailure(diagnostics: [problem])
        } catch {
            throw failure(at: .file(file), "the YAML could not be read: \(error)")
        }
    }

    private func failure(at location: SourceLocation, _ message: String, hint: String? = nil) -> ValidationFailure {
        ValidationFailure(diagnostics: [Diagnostic(at: location, message, hint: hint)])
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
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
            return Diagnostic(
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                "duplicate key \(keys) in one mapping", hint: "each key may appear once; remove or merge the repeat")
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
        var blockIndent: Int?
        switch scalar.style {
        case .singleQuoted: style = .singleQuoted
        case .doubleQuoted: style = .doubleQuoted
        case .literal: style = .literal
        case .folded: style = .folded
        case .any, .plain: style = .plain
        }
        if style == .literal || style == .folded, let mark = scalar.mark {
            blockIndent = contentIndent(afterLine: mark.line)
        }
        return YAMLScalar(
            text: scalar.string, style: style, location: location(of: scalar.mark), blockIndent: blockIndent)
    }

    /// The indentation of a block scalar's first non-blank content line.
    private mutating func contentIndent(afterLine line: Int) -> Int {
        if lines == nil { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }
        guard let lines else { return 0 }
        var index = line  // the header is on `line` (1-based), content starts on the next one
        while index < lines.count {
            let content = lines[index]
            if !content.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
                return content.prefix { $0 == " " }.count
            }
            index += 1
        }
        return 0
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
