import Foundation
package import Yams

/// One problem in a YAML file, where it is: `dashboards.yaml:12:9: error: …`.
package struct YAMLProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var message: String

    package init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    package var description: String { "\(file):\(line):\(column): error: \(message)" }
}

/// Every problem of a YAML file, reported together, in the order they stand in the file.
package struct YAMLFileError: Error, Sendable, CustomStringConvertible {
    package var problems: [YAMLProblem]
    package init(problems: [YAMLProblem]) { self.problems = problems }
    package var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads a YAML file the services are given (dashboards, parking sites) strictly: its nodes with
/// where they stand, so that unknown keys, wrong types and values out of range are each reported with
/// their line and column, all of them at once.
package struct YAMLFileReader {
    package var file: String
    package private(set) var problems: [YAMLProblem] = []

    package init(file: String) { self.file = file }

    /// The text of the file at `path`, at most `maxBytes` of UTF-8.
    package static func text(at path: String, maxBytes: Int) throws(YAMLFileError) -> String {
        let problem = { (message: String) in
            YAMLFileError(problems: [YAMLProblem(file: path, line: 1, column: 1, message: message)])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw problem("the file cannot be read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else { throw problem("the file is larger than \(maxBytes) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw problem("the file is not UTF-8 text") }
        return text
    }

    /// The document's root node; nil for an empty document. Syntax errors end the reading at once.
    package mutating func compose(_ text: String) throws(YAMLFileError) -> Node? {
        problems = []
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw YAMLFileError(problems: [Self.problem(error, file: file)])
        } catch {
            throw YAMLFileError(problems: [YAMLProblem(file: file, line: 1, column: 1, message: "\(error)")])
        }
        guard let root, !Self.isNull(root) else { return nil }
        return root
    }

    /// Throws every problem reported, in file order; returns when there is none.
    package func finish() throws(YAMLFileError) {
        guard problems.isEmpty else {
            throw YAMLFileError(problems: problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
    }

    /// A mapping's entries, with where each key is.
    package struct Fields {
        package var pairs: [(Node, Node)]
        package var count: Int { pairs.count }
        package subscript(_ key: String) -> Node? { pairs.first { $0.0.string == key }?.1 }
        package func key(_ key: String) -> Node? { pairs.first { $0.0.string == key }?.0 }
    }

    package mutating func mapping(_ node: Node, _ what: String, allowed: [String]?) -> Fields? {
        guard case .mapping(let mapping) = node else {
            report("\(what) must be a mapping, found \(Self.kind(of: node))", at: node)
            return nil
        }
        // Yams refuses a key that appears twice already, at the first of them.
        var pairs: [(Node, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                report("the keys of \(what) must be plain names", at: key)
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                report(
                    "unknown key '\(scalar.string.prefix(40))' in \(what); known: \(allowed.joined(separator: ", "))",
                    at: key)
                continue
            }
            pairs.append((key, value))
        }
        return Fields(pairs: pairs)
    }

    package mutating func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report("\(what) must be a list, found \(Self.kind(of: node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    package mutating func required(_ fields: Fields, _ key: String, in node: Node, _ what: String) -> Node? {
        guard let value = fields[key] else {
            report("\(what) needs '\(key)'", at: node)
            return nil
        }
        return value
    }

    package mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            report("\(what) must be text, found \(Self.kind(of: node))", at: node)
            return nil
        }
        return scalar.string
    }

    /// Text for people: one line, not empty, bounded.
    package mutating func text(_ node: Node, _ what: String, limit: Int = 200) -> String? {
        guard let value = string(node, what) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            report("\(what) is empty", at: node)
            return nil
        }
        if trimmed.count > limit {
            report("\(what) is longer than \(limit) characters", at: node)
            return nil
        }
        if trimmed.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) {
            report("\(what) holds a control character", at: node)
            return nil
        }
        return trimmed
    }

    package mutating func report(_ message: String, at node: Node) {
        let mark = node.mark
        problems.append(YAMLProblem(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    package static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    package static func kind(of node: Node) -> String {
        switch node {
        case .scalar: isNull(node) ? "nothing" : "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private static func problem(_ error: YamlError, file: String) -> YAMLProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return YAMLProblem(
                file: file, line: mark.line, column: mark.column,
                message: [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return YAMLProblem(
                file: file, line: context.mark.line, column: context.mark.column,
                message:
                    "\(duplicates.map { "'\($0.prefix(40))'" }.joined(separator: ", ")) appears twice in one mapping")
        default:
            return YAMLProblem(file: file, line: 1, column: 1, message: "\(error)")
        }
    }
}
