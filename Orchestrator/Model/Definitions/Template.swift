/// Text with `{{ namespace.name }}` placeholders, as config files, arguments and exports are written.
///
/// Namespaces: `param.NAME` (the instance's parameters), `dep.DEPENDENCY.EXPORT` (a value a dependency
/// exports), `node.name`, `node.address`, `site.name`, `site.display_name`, `environment.name`,
/// `instance.name`. A secret parameter renders as a `{{secret:NAME}}` marker that only the agent fills in.
package struct Template: Sendable, Hashable {
    package enum Segment: Sendable, Hashable {
        case literal(String)
        case reference(Reference)
    }

    /// One placeholder, with where it was written.
    package struct Reference: Sendable, Hashable {
        package var path: [String]
        package var location: SourceLocation
        /// A transformation after the name (`{{ param.password | mosquitto_password }}`): applied by the
        /// agent, to secrets, when it fills them in.
        package var filter: String? = nil

        package var text: String { path.joined(separator: ".") + (filter.map { " | \($0)" } ?? "") }
    }

    /// The filters a placeholder may name: `mosquitto_password` writes a secret as Mosquitto's
    /// password files want it (PBKDF2-SHA512, `$7$…`).
    package static let filters = ["mosquitto_password"]

    package var segments: [Segment]

    package init(segments: [Segment]) {
        self.segments = segments
    }

    /// A template that is only literal text.
    package init(literal: String) {
        segments = literal.isEmpty ? [] : [.literal(literal)]
    }

    package var references: [Reference] {
        segments.compactMap {
            if case .reference(let reference) = $0 { return reference }
            return nil
        }
    }

    /// Parses `scalar`'s text; an unclosed or empty placeholder is reported to `sink` at its place.
    static func parse(_ scalar: YAMLScalar, sink: DiagnosticSink) -> Template? {
        let characters = Array(scalar.text.unicodeScalars)
        var segments: [Segment] = []
        var literal = String.UnicodeScalarView()
        var index = 0
        var placeholder = 0
        while index < characters.count {
            guard characters[index] == "{", index + 1 < characters.count, characters[index + 1] == "{" else {
                literal.append(characters[index])
                index += 1
                continue
            }
            let start = index
            let location = scalar.location(ofPlaceholder: placeholder, offset: start)
            placeholder += 1
            var end = index + 2
            while end + 1 < characters.count, !(characters[end] == "}" && characters[end + 1] == "}") { end += 1 }
            guard end + 1 < characters.count else {
                sink.error(
                    "unclosed placeholder: '{{' without '}}'", at: location,
                    hint: "placeholders look like {{ param.port }}")
                return nil
            }
            let inner = String(String.UnicodeScalarView(characters[(start + 2)..<end]))
                .trimmingCharacters(in: " ")
            let parts = inner.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).trimmingCharacters(in: " ")
            let filter = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: " ") : nil
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !name.isEmpty, path.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
                sink.error(
                    "placeholder '{{\(inner)}}' is not a name like param.port", at: location)
                return nil
            }
            if let filter, !Template.filters.contains(filter) {
                sink.error(
                    "placeholder '{{\(inner)}}' names an unknown filter '\(filter)'", at: location,
                    hint: "the filters are: \(Template.filters.joined(separator: ", "))")
                return nil
            }
            if !literal.isEmpty {
                segments.append(.literal(String(literal)))
                literal = String.UnicodeScalarView()
            }
            segments.append(.reference(Reference(path: path, location: location, filter: filter)))
            index = end + 2
        }
        if !literal.isEmpty { segments.append(.literal(String(literal))) }
        return Template(segments: segments)
    }

    /// Renders with `lookup`, which answers each reference (references were checked at validation).
    package func render(_ lookup: (Reference) -> String) -> String {
        var text = ""
        for segment in segments {
            switch segment {
            case .literal(let literal): text += literal
            case .reference(let reference): text += lookup(reference)
            }
        }
        return text
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var slice = Substring(self)
        while slice.first == character { slice.removeFirst() }
        while slice.last == character { slice.removeLast() }
        return String(slice)
    }
}
