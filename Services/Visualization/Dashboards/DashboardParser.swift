import Foundation
package import ServiceSupport
import Yams

/// One problem in a dashboard file, where it is: `dashboards.yaml:12:9: error: …`.
package typealias DashboardProblem = YAMLProblem
/// Every problem of a dashboard file, reported together as `stellwerk validate` reports blueprints.
package typealias DashboardFileError = YAMLFileError

/// Reads a dashboard file strictly: unknown keys, wrong types, duplicate ids and values out of range
/// are each reported with the line and column they are at.
package struct DashboardParser {
    package var file: String
    private var reader: YAMLFileReader

    /// The largest dashboard file read (the blueprint parameter that carries it takes 256 KiB).
    package static let maxBytes = 262_144
    static let maxDashboards = 50
    static let maxPanels = 40
    static let maxSources = 50

    package init(file: String) {
        self.file = file
        reader = YAMLFileReader(file: file)
    }

    /// Reads the file at `path`; an empty file defines no dashboards.
    package static func load(_ path: String) throws(DashboardFileError) -> DashboardFile {
        var parser = DashboardParser(file: path)
        return try parser.parse(try YAMLFileReader.text(at: path, maxBytes: maxBytes))
    }

    package mutating func parse(_ text: String) throws(DashboardFileError) -> DashboardFile {
        reader = YAMLFileReader(file: file)
        guard let root = try reader.compose(text) else { return DashboardFile() }
        let result = parseFile(root)
        try reader.finish()
        return result
    }

    // MARK: The file

    private mutating func parseFile(_ root: Node) -> DashboardFile {
        guard let fields = reader.mapping(root, "the dashboard file", allowed: ["sources", "dashboards"]) else {
            return DashboardFile()
        }
        var sources: [String: String] = [:]
        if let node = fields["sources"], let entries = reader.mapping(node, "sources", allowed: nil) {
            if entries.count > Self.maxSources { reader.report("more than \(Self.maxSources) sources", at: node) }
            for (key, value) in entries.pairs {
                guard let name = identifier(key, "a source name") else { continue }
                if name == DashboardFile.ownSource {
                    reader.report("'\(name)' is the site's own sensor service; give other sources other names", at: key)
                }
                guard let url = reader.string(value, "source '\(name)'") else { continue }
                guard url.hasPrefix("http://") || url.hasPrefix("https://"), !url.contains(where: \.isWhitespace)
                else {
                    reader.report("source '\(name)' is not an http(s) URL: '\(url.prefix(80))'", at: value)
                    continue
                }
                sources[name] = url.hasSuffix("/") ? String(url.dropLast()) : url
            }
        }
        var dashboards: [Dashboard] = []
        if let node = fields["dashboards"], let list = reader.sequence(node, "dashboards") {
            dashboards = unique(
                list, at: node, limit: Self.maxDashboards, what: "dashboards",
                parse: { parser, item in parser.parseDashboard(item, sources: sources) }, id: \.id,
                duplicate: { "a dashboard with the id '\($0)' is defined already" })
        } else if fields["dashboards"] == nil {
            reader.report("the dashboard file has no 'dashboards' list", at: root)
        }
        return DashboardFile(sources: sources, dashboards: dashboards)
    }

    private mutating func parseDashboard(_ node: Node, sources: [String: String]) -> Dashboard? {
        guard
            let fields = reader.mapping(
                node, "a dashboard", allowed: ["id", "title", "title_en", "description", "panels"])
        else { return nil }
        let id = reader.required(fields, "id", in: node, "a dashboard").flatMap { identifier($0, "a dashboard id") }
        let title = reader.required(fields, "title", in: node, "dashboard '\(id ?? "?")'").flatMap {
            reader.text($0, "title")
        }
        let english = fields["title_en"].flatMap { reader.text($0, "title_en") }
        let description = fields["description"].flatMap { reader.text($0, "description", limit: 2000) }
        var panels: [Panel] = []
        if let node = reader.required(fields, "panels", in: node, "dashboard '\(id ?? "?")'"),
            let list = reader.sequence(node, "panels")
        {
            if list.isEmpty { reader.report("dashboard '\(id ?? "?")' has no panels", at: node) }
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
        guard let fields = reader.mapping(node, "a panel", allowed: Self.panelKeys) else { return nil }
        let id = reader.required(fields, "id", in: node, "a panel").flatMap { identifier($0, "a panel id") }
        let context = "panel '\(id ?? "?")'"
        var kind: Panel.Kind?
        if let node = reader.required(fields, "type", in: node, context), let name = reader.string(node, "type") {
            kind = Panel.Kind(rawValue: name)
            if kind == nil {
                reader.report(
                    "the type '\(name.prefix(40))' of \(context) is not one of "
                        + Panel.Kind.allCases.map(\.rawValue).joined(separator: ", "), at: node)
            }
        }
        let title = fields["title"].flatMap { reader.text($0, "title") }
        func known(_ node: Node, _ name: String) -> Bool {
            guard name == DashboardFile.ownSource || sources[name] != nil else {
                reader.report(
                    "\(context) reads the source '\(name.prefix(40))', which the file's sources do not name", at: node)
                return false
            }
            return true
        }
        var source = DashboardFile.ownSource
        if let node = fields["source"], let name = reader.string(node, "source"), known(node, name) { source = name }
        var panelSources = [DashboardFile.ownSource]
        if let node = fields["sources"], let list = reader.sequence(node, "sources") {
            panelSources = list.compactMap { item in
                reader.string(item, "a source").flatMap { known(item, $0) ? $0 : nil }
            }
            if list.isEmpty { reader.report("\(context) names no sources", at: node) }
        }
        var datastream: Panel.DatastreamQuery?
        if let node = fields["datastream"] {
            datastream = query(node, context)
        }
        if let kind, kind != .overview, fields["datastream"] == nil {
            reader.report("\(context) of type \(kind.rawValue) needs a datastream (its id or its name)", at: node)
        }
        if kind == .overview {
            for key in ["datastream", "source", "thresholds", "bucket", "aggregate"] where fields[key] != nil {
                reader.report("'\(key)' does not apply to \(context) of type overview", at: fields.key(key) ?? node)
            }
        } else if fields["sources"] != nil {
            reader.report(
                "'sources' applies to overview panels; \(context) reads one 'source'", at: fields.key("sources") ?? node
            )
        }
        var range = "24h"
        if let node = fields["range"], let name = reader.string(node, "range") {
            if ChartRequest.presets.contains(where: { $0.name == name }) {
                range = name
            } else {
                reader.report("the range '\(name.prefix(40))' of \(context) is not one of 24h, 7d, 31d", at: node)
            }
        }
        var thresholds = Panel.Thresholds.datastream
        if let node = fields["thresholds"] { thresholds = self.thresholds(node, context) }
        var bucket: Int64 = 3_600_000
        if let node = fields["bucket"], let name = reader.string(node, "bucket") {
            switch name {
            case "1h": bucket = 3_600_000
            case "1d": bucket = 86_400_000
            default: reader.report("the bucket '\(name.prefix(40))' of \(context) is not 1h or 1d", at: node)
            }
            if kind != .bars { reader.report("'bucket' applies to bars panels only", at: fields.key("bucket") ?? node) }
        }
        var aggregate = Panel.Aggregate.max
        if let node = fields["aggregate"], let name = reader.string(node, "aggregate") {
            if let value = Panel.Aggregate(rawValue: name) {
                aggregate = value
            } else {
                reader.report(
                    "the aggregate '\(name.prefix(40))' of \(context) is not one of "
                        + Panel.Aggregate.allCases.map(\.rawValue).joined(separator: ", "), at: node)
            }
            if kind != .bars {
                reader.report("'aggregate' applies to bars panels only", at: fields.key("aggregate") ?? node)
            }
        }
        let dataset = fields["dataset"].flatMap { node -> String? in
            guard let name = reader.string(node, "dataset") else { return nil }
            // CKAN's rule for dataset names.
            guard (2...100).contains(name.count),
                name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" })
            else {
                reader.report(
                    "the dataset '\(name.prefix(40))' is not a catalog dataset name (a-z, 0-9, - and _)", at: node)
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
            reader.report("the datastream of \(context) must be an id or a name", at: node)
            return nil
        }
        if scalar.style == .plain, let id = Int64(scalar.string) {
            guard id > 0 else {
                reader.report("the datastream id of \(context) must be positive", at: node)
                return nil
            }
            return .id(id)
        }
        return reader.text(node, "datastream").map { .name($0) }
    }

    private mutating func thresholds(_ node: Node, _ context: String) -> Panel.Thresholds {
        if case .scalar(let scalar) = node {
            switch scalar.string {
            case "datastream": return .datastream
            case "none": return Panel.Thresholds.none
            default:
                reader.report(
                    "the thresholds of \(context) are 'datastream', 'none' or a list of {value, label}", at: node)
                return .datastream
            }
        }
        guard let list = reader.sequence(node, "thresholds") else { return .datastream }
        var levels: [TimeSeriesChart.Level] = []
        for item in list.prefix(8) {
            guard let fields = reader.mapping(item, "a threshold", allowed: ["value", "label"]),
                let valueNode = reader.required(fields, "value", in: item, "a threshold"),
                let labelNode = reader.required(fields, "label", in: item, "a threshold"),
                let label = reader.text(labelNode, "label", limit: 60)
            else { continue }
            guard case .scalar(let scalar) = valueNode, let value = Double(scalar.string), value.isFinite,
                abs(value) <= TimeSeriesChart.largestDrawable
            else {
                reader.report("the threshold value of \(context) is not a number", at: valueNode)
                continue
            }
            if let last = levels.last, value <= last.threshold {
                reader.report(
                    "the thresholds of \(context) must rise: \(scalar.string) after \(last.threshold)", at: valueNode)
                continue
            }
            levels.append(TimeSeriesChart.Level(name: label, threshold: value))
        }
        if list.count > 8 { reader.report("\(context) has more than 8 thresholds", at: node) }
        return .given(levels)
    }

    // MARK: Nodes

    /// The items of a list parsed by `parse`, at most `limit`, each id once.
    private mutating func unique<Item>(
        _ list: [Node], at node: Node, limit: Int, what: String,
        parse: (inout DashboardParser, Node) -> Item?, id: (Item) -> String, duplicate: (String) -> String
    ) -> [Item] {
        if list.count > limit { reader.report("more than \(limit) \(what)", at: node) }
        var items: [Item] = []
        for item in list.prefix(limit) {
            guard let parsed = parse(&self, item) else { continue }
            if items.contains(where: { id($0) == id(parsed) }) {
                reader.report(duplicate(id(parsed)), at: item)
                continue
            }
            items.append(parsed)
        }
        return items
    }

    /// Ids appear in addresses (`/dashboards/ID/panel/ID.svg`): lowercase letters, digits and `-`.
    private mutating func identifier(_ node: Node, _ what: String) -> String? {
        guard let value = reader.string(node, what) else { return nil }
        guard (1...60).contains(value.count), let first = value.first, first.isASCII,
            first.isLowercase || first.isNumber,
            value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
        else {
            reader.report(
                "\(what) '\(value.prefix(40))' must be lowercase letters, digits and '-' (at most 60)", at: node)
            return nil
        }
        return value
    }
}
