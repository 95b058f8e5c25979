/// A YAML node as Stellwerk reads it: scalars stay text until a field's type says how to read them,
/// so `no` is only a boolean where a boolean is expected (no "Norway problem").
package indirect enum YAMLNode: Sendable {
    case scalar(YAMLScalar)
    case mapping([YAMLPair], SourceLocation)
    case sequence([YAMLNode], SourceLocation)

    package var location: SourceLocation {
        switch self {
        case .scalar(let scalar): scalar.location
        case .mapping(_, let location), .sequence(_, let location): location
        }
    }

    /// What the node is, in the words an error message uses.
    package var kindDescription: String {
        switch self {
        case .scalar(let scalar): scalar.isNull ? "nothing (null)" : "a single value"
        case .mapping: "a mapping (key: value)"
        case .sequence: "a list"
        }
    }
}

/// One key and its value in a mapping.
package struct YAMLPair: Sendable {
    package var key: YAMLScalar
    package var value: YAMLNode
}

/// A scalar with its text, how it was written, and where.
package struct YAMLScalar: Sendable {
    package enum Style: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    package var text: String
    package var style: Style
    package var location: SourceLocation
    /// For block scalars (`|`, `>`): where each `{{` of the value stands in the file, in order, so an
    /// error in a template points at the placeholder even where folding moved the text.
    package var placeholderLocations: [SourceLocation]?

    /// A plain `~`, `null`, or empty value.
    package var isNull: Bool {
        style == .plain && (text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    /// The source location of the `index`-th `{{` of the value, which starts at `offset` (in unicode
    /// scalars) inside it.
    package func location(ofPlaceholder index: Int, offset: Int) -> SourceLocation {
        if let placeholderLocations {
            return index < placeholderLocations.count ? placeholderLocations[index] : location
        }
        let quote = (style == .singleQuoted || style == .doubleQuoted) ? 1 : 0
        return SourceLocation(file: location.file, line: location.line, column: location.column + quote + offset)
    }
}
