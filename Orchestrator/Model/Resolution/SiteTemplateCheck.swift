/// Checks the site templates that `stellwerk onboard` fills in: each must give a valid site in every
/// environment once its `{{ onboard.* }}` placeholders are replaced.
struct SiteTemplateCheck {
    let workspace: Workspace
    let sink: DiagnosticSink

    /// The values a template is checked with; the real ones come from the onboarding municipality.
    static let sampleValues = [
        "onboard.name": "beispielstadt", "onboard.display_name": "Beispielstadt",
        "onboard.domain": "beispielstadt.example",
        "onboard.environment": "sandbox",
    ]

    func check(_ templates: [(path: String, root: YAMLNode)]) {
        for (path, root) in templates {
            let filled = Self.fill(root)
            let parser = EnvironmentParser(sink: sink)
            guard let site = parser.parseSite(filled, file: path) else { continue }
            for name in workspace.environmentNames {
                guard var environment = workspace.environments[name] else { continue }
                environment.sites.removeAll { $0.name.value == site.name.value }
                environment.sites.append(site)
                let scratch = DiagnosticSink()
                _ = EnvironmentResolver(workspace: workspace).resolve(environment, sink: scratch)
                for diagnostic in scratch.collector.diagnostics where diagnostic.location.file == path {
                    sink.collector.append(contentsOf: [
                        Diagnostic(
                            diagnostic.severity, at: diagnostic.location,
                            "\(diagnostic.message) (with environment '\(name)')", hint: diagnostic.hint)
                    ])
                }
            }
        }
    }

    /// Replaces `{{ onboard.X }}` in every scalar with the sample values.
    static func fill(_ node: YAMLNode) -> YAMLNode {
        switch node {
        case .scalar(var scalar):
            scalar.text = fill(scalar.text)
            return .scalar(scalar)
        case .mapping(let pairs, let location):
            return .mapping(pairs.map { YAMLPair(key: $0.key, value: fill($0.value)) }, location)
        case .sequence(let items, let location):
            return .sequence(items.map(fill), location)
        }
    }

    static func fill(_ text: String) -> String {
        guard text.contains("{{") else { return text }
        var result = text
        for (key, value) in sampleValues {
            result = result.replacingOccurrences(of: "{{ \(key) }}", with: value)
            result = result.replacingOccurrences(of: "{{\(key)}}", with: value)
        }
        return result
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
