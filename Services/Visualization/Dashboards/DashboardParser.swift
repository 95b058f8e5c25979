import Foundation
import Yams

/// One problem in a dashboard file, where it is: `dashboards.yaml:12:9: error: …`.
package struct DashboardProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var message: String

    package var description: String { "\(file):\(line):\(column): error: \(message)" }
}

/// Every problem of a dashboard file, reported together as `stellwerk validate` reports blueprints.
package struct DashboardFileError: Error, Sendable, CustomStringConvertible {
    package var problems: [DashboardProblem]
    package var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads a dashboard file strictly: unknown keys, wrong types, duplicate ids and values out of range
/// are each reported with the line and column they are at.
package struct DashboardParser {
    package var file: String
    private var problems: [DashboardProblem] = []

    /// The largest dashboard file read (the blueprint parameter that carries it takes 256 KiB).
    package static let maxBytes = 262_144
    static let maxDashboards = 50
    static let maxPanels = 40
    static let maxSources = 50

    package init(file: String) { self.file = file }

    /// Reads the file at `path`; an empty file defines no dashboards.
    package static func load(_ path: String) throws(DashboardFileError) -> DashboardFile {
        let problem = { (message: String) in
            DashboardFileError(problems: [DashboardProblem(file: path, line: 1, column: 1, message: message)])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw problem("the file cannot be read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else { throw problem("the file is larger than \(maxBytes) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw problem("the file is not UTF-8 text") }
        var parser = DashboardParser(file: path)
        return try parser.parse(text)
    }

    package mutating func parse(_ text: String) throws(DashboardFileError) -> DashboardFile {
        problems = []
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw DashboardFileError(problems: [Self.problem(error, file: file)])
        } catch {
            throw DashboardFileError(problems: [DashboardProblem(file: file, line: 1, column: 1, message: "\(error)")])
        }
        guard let root, !Self.isNull(root) else { return DashboardFile() }
        let result = parseFile(root)
        guard problems.isEmpty else {
            throw DashboardFileError(problems: problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return result
    }

    // MARK: The file

    private mutating func parseFile(_ root: Node) -> DashboardFile {
        guard let fields = mapping(root, "the dashboard file", allowed: ["sources", "dashboards"]) else {
            return DashboardFile()
        }
        var sources: [String: String] = [:]
        if let node = fields["sources"], let entries = mapping(node, "sources", allowed: nil) {
            if entries.count > Self.maxSources { report("more than \(Self.maxSources) sources", at: node) }
            for (key, value) in entries.pairs {
                guard let name = identifier(key, "a source name") else { continue }
                if name == DashboardFile.ownSource {
                    report("'\(name)' is the site's own sensor service; give other sources other names", at: key)
                }
                guard let url = string(value, "source '\(name)'") else { continue }
                guard url.hasPrefix("http://") || url.hasPrefix("https://"), !url.contains(where: \.isWhitespace)
                else {
                    report("source '\(name)' is not an http(s) URL: '\(url.prefix(80))'", at: value)
                    continue
                }
                sources[name] = url.hasSuffix("/") ? String(url.dropLast()) : url
            }
        }
        var dashboards: [Dashboard] = []
        if let node = fields["dashboards"], let list = sequence(node, "dashboards") {
            dashboards = unique(
                list, at: node, limit: Self.maxDashboards, what: "dashboards",
                parse: { parser, item in parser.parseDashboard(item, sources: sources) }, id: \.id,
                duplicate: { "a dashboard with the id '\($0)' is defined already" })
        } else if fields["dashboards"] == nil {
            report("the dashboard file has no 'dashboards' list", at: root)
        }
        return DashboardFile(sources: sources, dashboards: dashboards)
    }

    private mutating func parseDashboard(_ node: Node, sources: [String: String]) -> Dashboard? {
        guard
            let fields = mapping(
                node, "a dashboard", allowed: ["id", "title", "title_en", "description", "panels"])
        else { return nil }
        let id = required(fields, "id", in: node, "a dashboard").flatMap { identifier($0, "a dashboard id") }
        let title = required(fields, "title", in: node, "dashboard '\(id ?? "?")'").flatMap { text($0, "title") }
        let english = fields["title_en"].flatMap { text($0, "title_en") }
        let description = fields["description"].flatMap { text($0, "description", limit: 2000) }
        var panels: [Panel] = []
        if let node = required(fields, "panels", in: node, "dashboard '\(id ?? "?")'"),
            let list = sequence(node, "panels")
        {
            if list.isEmpty { report("dashboard '\(id ?? "?")' has no panels", at: node) }
            panels = unique(
                list, at: node, limit: Self.maxPanels, what: "panels",
                parse: { parser, item in parser.parsePanel(item, sources: sources) }, id: \.id,
                duplicate: { "a panel with the id '\($0)' is on this dashboard already" })
        }
        guard let id, let title else { return nil }
        return Dashboard(id: id, title: title, titleEnglish: english, description: description, panels: panels)
    }

    private static let panelKeys = [
        "id", "type", "title", "datastream", "source", "sources", "range", "thresholds", "bucket", "aggregate",
        "dataset",
    ]

    private mutating func parsePanel(_ node: Node, sources: [String: String]) -> Panel? {
        guard let fields = mapping(node, "a panel", allowed: Self.panelKeys) else { return nil }
        let id = required(fields, "id", in: node, "a panel").flatMap { identifier($0, "a panel id") }
        let context = "panel '\(id ?? "?")'"
        var kind: Panel.Kind?
        if let node = required(fields, "type", in: node, context), let name = string(node, "type") {
            kind = Panel.Kind(rawValue: name)
            if kind == nil {
                report(
                    "the type '\(name.prefix(40))' of \(context) is not one of "
                        + Panel.Kind.allCases.map(\.rawValue).joined(separator: ", "), at: node)
            }
        }
        let title = fields["title"].flatMap { text($0, "title") }
        func known(_ node: Node, _ name: String) -> Bool {
            guard name == DashboardFile.ownSource || sources[name] != nil else {
                report(
                    "\(context) reads the source '\(name.prefix(40))', which the file's sources do not name", at: node)
                return false
            }
            return true
        }
        var source = DashboardFile.ownSource
        if let node = fields["source"], let name = string(node, "source"), known(node, name) { source = name }
        var panelSources = [DashboardFile.ownSource]
        if let node = fields["sources"], let list = sequence(node, "sources") {
            panelSources = list.compactMap { item in string(item, "a source").flatMap { known(item, $0) ? $0 : nil } }
            if list.isEmpty { report("\(context) names no sources", at: node) }
        }
        var datastream: Panel.DatastreamQuery?
        if let node = fields["datastream"] {
            datastream = query(node, context)
        }
        if let kind, kind != .overview, fields["datastream"] == nil {
            report("\(context) of type \(kind.rawValue) needs a datastream (its id or its name)", at: node)
        }
        if kind == .overview {
            for key in ["datastream", "source", "thresholds", "bucket", "aggregate"] where fields[key] != nil {
                report("'\(key)' does not apply to \(context) of type overview", at: fields.key(key) ?? node)
            }
        } else if fields["sources"] != nil {
            report(
                "'sources' applies to overview panels; \(context) reads one 'source'", at: fields.key("sources") ?? node
            )
        }
        var range = "24h"
        if let node = fields["range"], let name = string(node, "range") {
            if ChartRequest.presets.contains(where: { $0.name == name }) {
                range = name
            } else {
                report("the range '\(name.prefix(40))' of \(context) is not one of 24h, 7d, 31d", at: node)
            }
        }
        var thresholds = Panel.Thresholds.datastream
        if let node = fields["thresholds"] { thresholds = self.thresholds(node, context) }
        var bucket: Int64 = 3_600_000
        if let node = fields["bucket"], let name = string(node, "bucket") {
            switch name {
            case "1h": bucket = 3_600_000
            case "1d": bucket = 86_400_000
            default: report("the bucket '\(name.prefix(40))' of \(context) is not 1h or 1d", at: node)
            }
            if kind != .bars { report("'bucket' applies to bars panels only", at: fields.key("bucket") ?? node) }
        }
        var aggregate = Panel.Aggregate.max
        if let node = fields["aggregate"], let name = string(node, "aggregate") {
            if let value = Panel.Aggregate(rawValue: name) {
                aggregate = value
            } else {
                report(
                    "the aggregate '\(name.prefix(40))' of \(context) is not one of "
                        + Panel.Aggregate.allCases.map(\.rawValue).joined(separator: ", "), at: node)
            }
            if kind != .bars { report("'aggregate' applies to bars panels only", at: fields.key("aggregate") ?? node) }
        }
        let dataset = fields["dataset"].flatMap { node -> String? in
            guard let name = string(node, "dataset") else { return nil }
            // CKAN's rule for dataset names.
            guard (2...100).contains(name.count),
                name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" })
            else {
                report("the dataset '\(name.prefix(40))' is not a catalog dataset name (a-z, 0-9, - and _)", at: node)
                return nil
            }
            return name
        }
        guard let id, let kind else { return nil }
        return Panel(
            id: id, kind: kind, title: title, source: source, sources: panelSources, datastream: datastream,
            range: range, thresholds: thresholds, bucket: bucket, aggregate: aggregate, dataset: dataset)
    }

    private mutating func query(_ node: Node, _ context: String) -> Panel.DatastreamQuery? {
        guard case .scalar(let scalar) = node else {
            report("the datastream of \(context) must be an id or a name", at: node)
            return nil
        }
        if scalar.style == .plain, let id = Int64(scalar.string) {
            guard id > 0 else {
                report("the datastream id of \(context) must be positive", at: node)
                return nil
            }
            return .id(id)
        }
        return text(node, "datastream").map { .name($0) }
    }

    private mutating func thresholds(_ node: Node, _ context: String) -> Panel.Thresholds {
        if case .scalar(let scalar) = node {
            switch scalar.string {
            case "datastream": return .datastream
            case "none": return Panel.Thresholds.none
            default:
                report(
                    "the thresholds of \(context) are 'datastream', 'none' or a list of {value, label}", at: node)
                return .datastream
            }
        }
        guard let list = sequence(node, "thresholds") else { return .datastream }
        var levels: [TimeSeriesChart.Level] = []
        for item in list.prefix(8) {
            guard let fields = mapping(item, "a threshold", allowed: ["value", "label"]),
                let valueNode = required(fields, "value", in: item, "a threshold"),
                let labelNode = required(fields, "label", in: item, "a threshold"),
                let label = text(labelNode, "label", limit: 60)
            else { continue }
            guard case .scalar(let scalar) = valueNode, let value = Double(scalar.string), value.isFinite,
                abs(value) <= TimeSeriesChart.largestDrawable
            else {
                report("the threshold value of \(context) is not a number", at: valueNode)
                continue
            }
            if let last = levels.last, value <= last.threshold {
                report(
                    "the thresholds of \(context) must rise: \(scalar.string) after \(last.threshold)", at: valueNode)
                continue
            }
            levels.append(TimeSeriesChart.Level(name: label, threshold: value))
        }
        if list.count > 8 { report("\(context) has more than 8 thresholds", at: node) }
        return .given(levels)
    }

    // MARK: Nodes

    /// The items of a list parsed by `parse`, at most `limit`, each id once.
    private mutating func unique<Item>(
        _ list: [Node], at node: Node, limit: Int, what: String,
        parse: (inout DashboardParser, Node) -> Item?, id: (Item) -> String, duplicate: (String) -> String
    ) -> [Item] {
        if list.count > limit { report("more than \(limit) \(what)", at: node) }
        var items: [Item] = []
        for item in list.prefix(limit) {
            guard let parsed = parse(&self, item) else { continue }
            if items.contains(where: { id($0) == id(parsed) }) {
                report(duplicate(id(parsed)), at: item)
                continue
            }
            items.append(parsed)
        }
        return items
    }

    /// A mapping's entries, with where each key is.
    struct Fields {
        var pairs: [(Node, Node)]
        var count: Int { pairs.count }
        subscript(_ key: String) -> Node? { pairs.first { $0.0.string == key }?.1 }
        func key(_ key: String) -> Node? { pairs.first { $0.0.string == key }?.0 }
    }

    private mutating func mapping(_ node: Node, _ what: String, allowed: [String]?) -> Fields? {
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

    private mutating func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report("\(what) must be a list, found \(Self.kind(of: node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    private mutating func required(_ fields: Fields, _ key: String, in node: Node, _ what: String) -> Node? {
        guard let value = fields[key] else {
            report("\(what) needs '\(key)'", at: node)
            return nil
        }
        return value
    }

    private mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            report("\(what) must be text, found \(Self.kind(of: node))", at: node)
            return nil
        }
        return scalar.string
    }

    /// Text for people: one line, not empty, bounded.
    private mutating func text(_ node: Node, _ what: String, limit: Int = 200) -> String? {
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

    /// Ids appear in addresses (`/dashboards/ID/panel/ID.svg`): lowercase letters, digits and `-`.
    private mutating func identifier(_ node: Node, _ what: String) -> String? {
        guard let value = string(node, what) else { return nil }
        guard (1...60).contains(value.count), let first = value.first, first.isASCII,
            first.isLowercase || first.isNumber,
            value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
        else {
            report("\(what) '\(value.prefix(40))' must be lowercase letters, digits and '-' (at most 60)", at: node)
            return nil
        }
        return value
    }

    private mutating func report(_ message: String, at node: Node) {
        let mark = node.mark
        problems.append(
            DashboardProblem(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    private static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case .scalar: isNull(node) ? "nothing" : "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private static func problem(_ error: YamlError, file: String) -> DashboardProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return DashboardProblem(
                file: file, line: mark.line, column: mark.column,
                message: [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return DashboardProblem(
                file: file, line: context.mark.line, column: context.mark.column,
                message:
                    "\(duplicates.map { "'\($0.prefix(40))'" }.joined(separator: ", ")) appears twice in one mapping")
        default:
            return DashboardProblem(file: file, line: 1, column: 1, message: "\(error)")
        }
    }
}
