/// A page in Prometheus's text exposition format (version 0.0.4), built family by family: the one
/// renderer behind every `/metrics` of the orchestrator, the agent and the services.
///
/// ```swift
/// var page = PrometheusText()
/// page.counter("catalog_action_requests_total", help: "CKAN API requests.", samples: counts.samples())
/// page.gauge("catalog_datasets", help: "Public, active datasets.", value: 10)
/// return page.text
/// ```
package struct PrometheusText: Sendable {
    private var lines: [String] = []

    /// The `Content-Type` of a page.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    package init() {}

    /// The page, ending in a newline as the format asks.
    package var text: String { lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n" }

    /// A counter family: one sample per label set.
    package mutating func counter(_ name: String, help: String, samples: [Sample]) {
        family(name, type: "counter", help: help, samples: samples)
    }

    /// A gauge family: one sample per label set.
    package mutating func gauge(_ name: String, help: String, samples: [Sample]) {
        family(name, type: "gauge", help: help, samples: samples)
    }

    /// A gauge with a single value and no labels.
    package mutating func gauge(_ name: String, help: String, value: Double) {
        gauge(name, help: help, samples: [Sample(value: value)])
    }

    /// A histogram family: cumulative buckets, a sum and a count per label set.
    package mutating func histogram(_ name: String, help: String, series: [Histogram.Snapshot]) {
        lines.append("# HELP \(name) \(Self.escapeHelp(help))")
        lines.append("# TYPE \(name) histogram")
        for snapshot in series {
            var cumulative = 0
            for (bound, count) in zip(snapshot.bounds, snapshot.counts) {
                cumulative += count
                let le = Sample(labels: snapshot.labels + [("le", Self.number(bound))], value: Double(cumulative))
                lines.append("\(name)_bucket\(le.labelText) \(Self.number(le.value))")
            }
            let all = Sample(labels: snapshot.labels + [("le", "+Inf")], value: Double(snapshot.count))
            lines.append("\(name)_bucket\(all.labelText) \(Self.number(all.value))")
            let plain = Sample(labels: snapshot.labels, value: 0)
            lines.append("\(name)_sum\(plain.labelText) \(Self.number(snapshot.sum))")
            lines.append("\(name)_count\(plain.labelText) \(snapshot.count)")
        }
    }

    private mutating func family(_ name: String, type: String, help: String, samples: [Sample]) {
        lines.append("# HELP \(name) \(Self.escapeHelp(help))")
        lines.append("# TYPE \(name) \(type)")
        for sample in samples { lines.append("\(name)\(sample.labelText) \(Self.number(sample.value))") }
    }

    /// One value and the labels that tell it apart from the others of its family.
    package struct Sample: Sendable, Hashable {
        package var labels: [Label]
        package var value: Double

        package init(labels: [(String, String)] = [], value: Double) {
            self.labels = labels.map { Label(name: $0.0, value: $0.1) }
            self.value = value
        }

        /// `{name="value",…}` with values escaped, or nothing without labels.
        var labelText: String {
            guard !labels.isEmpty else { return "" }
            return "{" + labels.map { "\($0.name)=\"\(PrometheusText.escapeLabel($0.value))\"" }.joined(separator: ",")
                + "}"
        }
    }

    package struct Label: Sendable, Hashable {
        package var name: String
        package var value: String
    }

    /// Integers without a fraction, so counts read as counts.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabel(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    /// Help text escapes backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }
}

extension PrometheusText.Sample {
    init(labels: [PrometheusText.Label], value: Double) {
        self.labels = labels
        self.value = value
    }
}
