import Markup

/// A typed parameter a blueprint declares, with its default and constraints.
package struct ParameterDefinition: Sendable {
    package var name: Located<String>
    package var type: ParameterType
    /// The default in canonical form; `nil` when there is none.
    package var defaultValue: String?
    /// Whether a site must give a value. Defaults to true exactly when there is no default.
    package var required: Bool
    package var description: String?
}

/// What a `text` parameter's value must be beyond text (`format:` in the blueprint).
package enum TextFormat: String, Sendable, CaseIterable {
    /// An SVG image that draws itself (a logo): see `SelfContainedSVG`.
    case svg
}

/// What values a parameter takes.
package enum ParameterType: Sendable {
    case string(pattern: String?, minLength: Int?, maxLength: Int?)
    case int(min: Int?, max: Int?)
    case bool
    case port
    case duration(min: TimeSpan?, max: TimeSpan?)
    case url(schemes: [String])
    case enumeration([String])
    /// A reference to a secret held by the orchestrator; never a plain value.
    case secret
    /// A database location: `sqlite:RELATIVE/PATH` or `postgres://user@host:port/db`, without a password.
    case databaseURL(schemes: [String])
    /// Text of several lines, such as a file a site keeps beside its site file (`{file: PATH}`); only
    /// ever a config file's whole content, so its lines cannot add keys to a file of other values.
    case text(maxLength: Int, format: TextFormat? = nil)

    package static let names = [
        "string", "int", "bool", "port", "duration", "url", "enum", "secret", "database_url", "text",
    ]

    /// The longest text a `text` parameter takes unless its blueprint says less.
    package static let textLimit = 262_144

    package var name: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .bool: "bool"
        case .port: "port"
        case .duration: "duration"
        case .url: "url"
        case .enumeration: "enum"
        case .secret: "secret"
        case .databaseURL: "database_url"
        case .text: "text"
        }
    }

    /// Whether a value may be given as `{secret: NAME}`: secrets, and the URL types, whose values may
    /// carry credentials.
    package var acceptsSecretReference: Bool {
        switch self {
        case .secret, .databaseURL, .url: true
        default: false
        }
    }

    /// Whether a plain value may be shown in messages; values of types that can hold credentials are not.
    package var showsValues: Bool {
        switch self {
        case .secret, .databaseURL, .url, .text: false
        default: true
        }
    }

    /// Checks a plain value and returns its canonical text, or says what is wrong with it.
    package func canonicalValue(of text: String) -> Result<String, ParameterValueError> {
        func fail(_ message: String, hint: String? = nil) -> Result<String, ParameterValueError> {
            .failure(ParameterValueError(message: message, hint: hint))
        }
        // Values are pasted into config files as they are: a line break could add keys of its own, and
        // a {{secret:NAME}} marker would make the agent fill in another service's secret. Text is a whole
        // file of its own, so only its line breaks and tabs are allowed.
        if case .text = self {
            if let bad = text.unicodeScalars.first(where: {
                ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F
            }) {
                return fail("contains the control character U+\(String(bad.value, radix: 16, uppercase: true))")
            }
        } else if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return fail("contains a line break or control character", hint: "parameter values are single lines")
        }
        if text.contains("{{") {
            return fail("contains '{{'", hint: "parameter values are plain text; placeholders belong in blueprints")
        }
        switch self {
        case .string(let pattern, let minLength, let maxLength):
            if let minLength, text.count < minLength {
                return fail(minLength == 1 ? "is empty" : "is shorter than \(minLength) characters")
            }
            if let maxLength, text.count > maxLength {
                return fail("is longer than \(maxLength) character\(maxLength == 1 ? "" : "s")")
            }
            if let pattern, let regex = try? Regex(pattern), (try? regex.wholeMatch(in: text)) == nil {
                return fail("does not match the pattern \(pattern)")
            }
            return .success(text)
        case .int(let min, let max):
            guard let value = Int(text) else { return fail("is not a whole number") }
            if let min, value < min { return fail("is less than the minimum \(min)") }
            if let max, value > max { return fail("is more than the maximum \(max)") }
            return .success(String(value))
        case .bool:
            guard text == "true" || text == "false" else {
                return fail("is not true or false", hint: "YAML's yes/no/on/off are not accepted")
            }
            return .success(text)
        case .port:
            guard let value = Int(text), (1...65535).contains(value) else {
                return fail("is not a port number (1 to 65535)")
            }
            return .success(String(value))
        case .duration(let min, let max):
            guard let span = TimeSpan(parsing: text) else {
                return fail("is not a duration", hint: TimeSpan.syntaxHint)
            }
            if let min, span < min { return fail("is shorter than the minimum \(min)") }
            if let max, span > max { return fail("is longer than the maximum \(max)") }
            return .success(span.description)
        case .url(let schemes):
            guard let url = SimpleURL(text) else { return fail("is not a URL like https://host/path") }
            guard schemes.contains(url.scheme.lowercased()) else {
                return fail("uses the scheme '\(url.scheme)'", hint: "allowed: \(schemes.joined(separator: ", "))")
            }
            if url.hasPassword {
                return fail("holds a password", hint: "give the whole URL as a secret reference: {secret: NAME}")
            }
            return .success(text)
        case .enumeration(let values):
            guard values.contains(text) else {
                return fail(
                    "is not one of \(values.joined(separator: ", "))", hint: Suggestion.hint(for: text, in: values))
            }
            return .success(text)
        case .secret:
            return fail(
                "is a plain value, but the parameter is a secret",
                hint: "never write a secret's value into a file: give a reference like {secret: NAME}")
        case .databaseURL(let schemes):
            return Self.checkDatabaseURL(text, schemes: schemes)
        case .text(let maxLength, let format):
            if text.utf8.count > maxLength { return fail("is \(text.utf8.count) bytes, more than \(maxLength)") }
            if format == .svg, !text.isEmpty, let problem = SelfContainedSVG.problem(text) {
                return fail(problem, hint: "an SVG image that draws itself: no script, event handler, HTML or address")
            }
            return .success(text)
        }
    }

    private static func checkDatabaseURL(_ text: String, schemes: [String]) -> Result<String, ParameterValueError> {
        if text.lowercased().hasPrefix("sqlite:") {
            guard schemes.contains("sqlite") else {
                return .failure(ParameterValueError(message: "uses sqlite, which this parameter does not allow"))
            }
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                return .failure(
                    ParameterValueError(
                        message: "must name a file inside the instance's folder",
                        hint: "write sqlite:data/NAME.sqlite: a relative path without '..'"))
            }
            return .success(text)
        }
        guard let url = SimpleURL(text), ["postgres", "postgresql"].contains(url.scheme) else {
            return .failure(
                ParameterValueError(
                    message: "is not a database URL",
                    hint: "write sqlite:data/NAME.sqlite or postgres://user@host:5432/db"))
        }
        guard schemes.contains("postgres") else {
            return .failure(ParameterValueError(message: "uses postgres, which this parameter does not allow"))
        }
        if url.hasPassword {
            return .failure(
                ParameterValueError(
                    message: "holds a password", hint: "give the whole URL as a secret reference: {secret: NAME}"))
        }
        return .success(text)
    }
}

/// Why a parameter value was refused.
package struct ParameterValueError: Error, Sendable {
    package var message: String
    package var hint: String?
}

/// The parts of a URL that validation needs, parsed without Foundation's leniency.
package struct SimpleURL {
    /// `text` with the password of a `user:password@` part replaced by `***`, for messages.
    package static func redacted(_ text: String) -> String {
        guard let separator = text.range(of: "://") else { return text }
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
        let authority = text[separator.upperBound..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return text
        }
        var redacted = text
        redacted.replaceSubrange(text.index(after: colon)..<at, with: "***")
        return redacted
    }

    var scheme: String
    var host: String
    var hasPassword: Bool

    init?(_ text: String) {
        guard let separator = text.range(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound]
        guard let first = scheme.first, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        let rest = text[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var hostPart = Substring(authority)
        var hasPassword = false
        if let at = authority.lastIndex(of: "@") {
            hasPassword = authority[..<at].contains(":")
            hostPart = authority[authority.index(after: at)...]
        }
        let host = hostPart.hasPrefix("[") ? hostPart : hostPart.prefix { $0 != ":" }
        guard !host.isEmpty, !text.contains(where: { $0.isWhitespace }) else { return nil }
        self.scheme = scheme.lowercased()
        self.host = String(host)
        self.hasPassword = hasPassword
    }
}
