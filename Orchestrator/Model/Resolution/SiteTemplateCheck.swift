/// Checks the site templates that `stellwerk onboard` fills in: each must give a valid site in every
/// environment once its `{{ onboard.* }}` placeholders are replaced.
package struct SiteTemplateCheck {
    let workspace: Workspace
    let sink: DiagnosticSink

    /// The placeholders a template may use, with the values it is checked with; the real ones come from
    /// the onboarding municipality (`onboard.environment` is each environment in turn).
    package static let sampleValues = [
        "onboard.name": "beispielstadt", "onboard.display_name": "Beispielstadt",
        "onboard.domain": "beispielstadt.example", "onboard.node_address": "beispielstadt-1.beispielstadt.example",
        "onboard.environment": "", "onboard.organization": "stadt-beispielstadt",
    ]

    func check(_ templates: [(path: String, root: YAMLNode)]) {
        for (path, root) in templates {
            reportUnknownPlaceholders(in: root)
            // Problems found in every environment are reported once; others name their environment.
            var found: [Diagnostic: [String]] = [:]
            for name in workspace.environmentNames {
                guard var environment = workspace.environments[name] else { continue }
                let scratch = DiagnosticSink()
                guard
                    let site = EnvironmentParser(sink: scratch).parseSite(
                        Self.fill(root, environment: name), file: path)
                else {
                    for diagnostic in scratch.collector.diagnostics { found[diagnostic, default: []].append(name) }
                    continue
                }
                if environment.promotion.respectWindows, site.maintenanceWindows.isEmpty {
                    scratch.error(
                        "the template gives no maintenance_windows, but the environment only changes sites inside their "
                            + "windows", at: site.name.location, hint: "add a window the municipality can adjust")
                }
                environment.sites.removeAll { $0.name.value == site.name.value }
                environment.sites.append(site)
                _ = EnvironmentResolver(workspace: workspace).resolve(environment, sink: scratch)
                for diagnostic in scratch.collector.diagnostics where diagnostic.location.file == path {
                    found[diagnostic, default: []].append(name)
                }
            }
            for (diagnostic, environments) in found {
                var shown = diagnostic
                if environments.count < workspace.environments.count {
                    shown.message += " (in environment \(environments.sorted().joined(separator: ", ")))"
                }
                sink.collector.append(contentsOf: [shown])
            }
        }
    }

    private func reportUnknownPlaceholders(in node: YAMLNode) {
        switch node {
        case .scalar(let scalar):
            for (index, (name, offset)) in Self.placeholders(in: scalar.text).enumerated()
            where Self.sampleValues[name] == nil {
                sink.error(
                    "the template uses {{ \(name) }}, which onboarding does not fill in",
                    at: scalar.location(ofPlaceholder: index, offset: offset),
                    hint: Suggestion.hint(for: name, in: Self.sampleValues.keys.sorted()))
            }
        case .mapping(let pairs, _):
            for pair in pairs { reportUnknownPlaceholders(in: pair.value) }
        case .sequence(let items, _):
            for item in items { reportUnknownPlaceholders(in: item) }
        }
    }

    /// The names inside every `{{ … }}` of `text`, in order, with the offset (in unicode scalars) of
    /// each `{{`.
    package static func placeholders(in text: String) -> [(name: String, offset: Int)] {
        var found: [(name: String, offset: Int)] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let offset = text.unicodeScalars.distance(from: text.startIndex, to: open.lowerBound)
            found.append((rest[open.upperBound..<close.lowerBound].trimmingSpaces(), offset))
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// Replaces each known `{{ onboard.X }}` in every scalar with its sample value.
    static func fill(_ node: YAMLNode, environment: String) -> YAMLNode {
        switch node {
        case .scalar(var scalar):
            scalar.text = fill(scalar.text, environment: environment)
            return .scalar(scalar)
        case .mapping(let pairs, let location):
            return .mapping(
                pairs.map { YAMLPair(key: $0.key, value: fill($0.value, environment: environment)) }, location)
        case .sequence(let items, let location):
            return .sequence(items.map { fill($0, environment: environment) }, location)
        }
    }

    static func fill(_ text: String, environment: String) -> String {
        fill(text, values: sampleValues.merging(["onboard.environment": environment]) { $1 })
    }

    /// Replaces each `{{ NAME }}` of `text` whose name `values` has; others stay as they are.
    package static func fill(_ text: String, values: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingSpaces()
            result += rest[..<open.lowerBound]
            if let value = values[name] {
                result += value
            } else {
                result += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        var slice = self
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}
