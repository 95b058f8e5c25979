import StellwerkAPI

/// Collects diagnostics while documents are read, so every problem of a run is reported together.
final class DiagnosticSink {
    var collector = DiagnosticCollector()

    func error(_ message: String, at location: SourceLocation, hint: String? = nil, masksValue: Bool = false) {
        collector.error(message, at: location, hint: hint, masksValue: masksValue)
    }
}

/// A value together with the place it was written, for errors found later (a reference to a
/// blueprint that does not exist, a port claimed twice).
package struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    package var value: Value
    package var location: SourceLocation

    package init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// Strict access to one YAML mapping: unknown keys are errors with a "did you mean" hint, missing
/// required keys are errors at the mapping, and each value is checked against the type it must have.
struct MappingFields {
    let location: SourceLocation
    /// What the mapping is, for messages ("site 'kusel'", "parameter 'port'").
    let context: String
    private let values: [String: YAMLNode]
    private let keyLocations: [String: SourceLocation]
    private let sink: DiagnosticSink
    /// Whether a key was not among the allowed ones (and was reported): what the mapping means may
    /// then differ from what its author meant, such as a misspelt `default`.
    let hasUnknownKeys: Bool

    /// Opens `node` as a mapping with the given keys, reporting keys that are not among them.
    /// Returns `nil` (after reporting) when the node is not a mapping.
    init?(_ node: YAMLNode, context: String, allowed: [String], sink: DiagnosticSink) {
        guard case .mapping(let pairs, let location) = node else {
            sink.error("\(context) must be a mapping (key: value), found \(node.kindDescription)", at: node.location)
            return nil
        }
        self.location = location
        self.context = context
        self.sink = sink
        var values: [String: YAMLNode] = [:]
        var keyLocations: [String: SourceLocation] = [:]
        var hasUnknownKeys = false
        for pair in pairs {
            let key = pair.key.text
            if !allowed.contains(key) {
                sink.error(
                    "unknown key '\(key)' in \(context)", at: pair.key.location,
                    hint: Suggestion.hint(for: key, in: allowed))
                hasUnknownKeys = true
                continue
            }
            values[key] = pair.value
            keyLocations[key] = pair.key.location
        }
        self.values = values
        self.keyLocations = keyLocations
        self.hasUnknownKeys = hasUnknownKeys
    }

    /// The keys present, in no particular order.
    var presentKeys: Dictionary<String, YAMLNode>.Keys { values.keys }

    func has(_ key: String) -> Bool { values[key] != nil }

    func node(_ key: String, required: Bool = false) -> YAMLNode? {
        guard let node = values[key] else {
            if required { sink.error("missing key '\(key)' in \(context)", at: location) }
            return nil
        }
        return node
    }

    func keyLocation(_ key: String) -> SourceLocation {
        keyLocations[key] ?? location
    }

    // MARK: Typed values

    func scalar(_ key: String, required: Bool = false) -> YAMLScalar? {
        guard let node = node(key, required: required) else { return nil }
        return Self.scalar(node, what: "'\(key)' in \(context)", sink: sink)
    }

    static func scalar(_ node: YAMLNode, what: String, sink: DiagnosticSink) -> YAMLScalar? {
        guard case .scalar(let scalar) = node, !scalar.isNull else {
            sink.error("\(what) must be a single value, found \(node.kindDescription)", at: node.location)
            return nil
        }
        return scalar
    }

    func string(_ key: String, required: Bool = false) -> Located<String>? {
        scalar(key, required: required).map { Located($0.text, at: $0.location) }
    }

    func name(_ key: String, required: Bool = false) -> Located<String>? {
        guard let scalar = scalar(key, required: required) else { return nil }
        return Self.name(scalar, what: "'\(key)' in \(context)", sink: sink)
    }

    static func name(_ scalar: YAMLScalar, what: String, sink: DiagnosticSink) -> Located<String>? {
        guard Names.isValid(scalar.text) else {
            sink.error(
                "\(what) is '\(scalar.text)', which is not a valid name", at: scalar.location, hint: Names.rule)
            return nil
        }
        return Located(scalar.text, at: scalar.location)
    }

    func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Located<Int>? {
        guard let scalar = scalar(key, required: required) else { return nil }
        guard let value = Int(scalar.text) else {
            sink.error("'\(key)' in \(context) must be a whole number, found '\(scalar.text)'", at: scalar.location)
            return nil
        }
        if let range, !range.contains(value) {
            sink.error(
                "'\(key)' in \(context) must be between \(range.lowerBound) and \(range.upperBound), found \(value)",
                at: scalar.location)
            return nil
        }
        return Located(value, at: scalar.location)
    }

    func bool(_ key: String, required: Bool = false) -> Located<Bool>? {
        guard let scalar = scalar(key, required: required) else { return nil }
        switch scalar.text {
        case "true": return Located(true, at: scalar.location)
        case "false": return Located(false, at: scalar.location)
        default:
            sink.error(
                "'\(key)' in \(context) must be true or false, found '\(scalar.text)'", at: scalar.location,
                hint: "YAML's yes/no/on/off are not accepted: write true or false")
            return nil
        }
    }

    func timeSpan(_ key: String, required: Bool = false, allowZero: Bool = true) -> Located<TimeSpan>? {
        guard let scalar = scalar(key, required: required) else { return nil }
        guard let span = TimeSpan(parsing: scalar.text) else {
            sink.error(
                "'\(key)' in \(context) must be a duration, found '\(scalar.text)'", at: scalar.location,
                hint: TimeSpan.syntaxHint)
            return nil
        }
        if !allowZero, span.seconds == 0 {
            sink.error("'\(key)' in \(context) must be longer than zero", at: scalar.location)
            return nil
        }
        return Located(span, at: scalar.location)
    }

    func list(_ key: String, required: Bool = false) -> [YAMLNode]? {
        guard let node = node(key, required: required) else { return nil }
        guard case .sequence(let items, _) = node else {
            sink.error("'\(key)' in \(context) must be a list, found \(node.kindDescription)", at: node.location)
            return nil
        }
        return items
    }

    func strings(_ key: String, required: Bool = false) -> [Located<String>]? {
        guard let items = list(key, required: required) else { return nil }
        return items.compactMap { item in
            Self.scalar(item, what: "an entry of '\(key)' in \(context)", sink: sink).map {
                Located($0.text, at: $0.location)
            }
        }
    }

    /// A mapping of names to single values, such as node labels; keys keep their order.
    func stringMap(_ key: String, required: Bool = false) -> [(key: Located<String>, value: Located<String>)]? {
        guard let node = node(key, required: required) else { return nil }
        guard case .mapping(let pairs, _) = node else {
            sink.error(
                "'\(key)' in \(context) must be a mapping (name: value), found \(node.kindDescription)",
                at: node.location)
            return nil
        }
        return pairs.compactMap { pair in
            guard let value = Self.scalar(pair.value, what: "'\(pair.key.text)' in '\(key)'", sink: sink) else {
                return nil
            }
            return (Located(pair.key.text, at: pair.key.location), Located(value.text, at: value.location))
        }
    }

    /// The entries of a mapping whose values are themselves mappings, such as `parameters:`.
    func entries(_ key: String, required: Bool = false) -> [YAMLPair]? {
        guard let node = node(key, required: required) else { return nil }
        if case .scalar(let scalar) = node, scalar.isNull { return [] }
        guard case .mapping(let pairs, _) = node else {
            sink.error("'\(key)' in \(context) must be a mapping, found \(node.kindDescription)", at: node.location)
            return nil
        }
        return pairs
    }
}
