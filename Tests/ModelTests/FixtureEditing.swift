import Model
import TestSupport
import Testing

/// Paths of the fixture workspace's files, as diagnostics name them.
enum FixturePath {
    static let api = "Blueprints/api.yaml"
    static let web = "Blueprints/web.yaml"
    static let sandbox = "Environments/sandbox/environment.yaml"
    static let live = "Environments/live/environment.yaml"
    static let alpha = "Environments/sandbox/sites/alpha.yaml"
    static let beta = "Environments/sandbox/sites/beta.yaml"
    static let liveAlpha = "Environments/live/sites/alpha.yaml"
}

extension Fixtures {
    /// The valid fixture workspace with `old` replaced by `new` in the file at `path`.
    ///
    /// `old` must occur exactly once, so a change to the fixtures makes the test fail loudly instead
    /// of silently testing nothing.
    static func files(
        changing path: String, _ old: String, to new: String, in files: [String: String] = Fixtures.files(),
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws -> [String: String] {
        var files = files
        let text = try #require(files[path], "no file \(path)", sourceLocation: sourceLocation)
        let parts = text.components(separatedBy: old)
        try #require(
            parts.count == 2, "'\(old)' occurs \(parts.count - 1) times in \(path)", sourceLocation: sourceLocation)
        files[path] = parts.joined(separator: new)
        return files
    }
}

/// Where `needle` starts in `text` (1-based line and column); `needle` must occur exactly once.
func position(
    of needle: String, in text: String?, sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> (line: Int, column: Int) {
    let text = try #require(text, sourceLocation: sourceLocation)
    let parts = text.components(separatedBy: needle)
    try #require(parts.count == 2, "'\(needle)' occurs \(parts.count - 1) times", sourceLocation: sourceLocation)
    let lines = parts[0].split(separator: "\n", omittingEmptySubsequences: false)
    return (lines.count, (lines.last?.count ?? 0) + 1)
}

/// The errors loading `files` gives, sorted by location.
func errors(_ files: [String: String]) -> [Diagnostic] {
    Fixtures.diagnostics(files).filter { $0.severity == .error }
}

/// The one error loading `files` gives; fails the test when there are none or several.
func onlyError(
    _ files: [String: String], sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
    let found = errors(files)
    try #require(
        found.count == 1, "expected exactly one error, got:\n\(describe(found))", sourceLocation: sourceLocation)
    return found[0]
}

/// The one error loading `files` gives about the file at `path`. Other files may get errors that
/// follow from it (a blueprint that cannot be read is missing for the sites that use it).
func onlyError(
    _ files: [String: String], in path: String, sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
    let found = errors(files).filter { $0.location.file == path }
    try #require(
        found.count == 1, "expected exactly one error in \(path), got:\n\(describe(found))",
        sourceLocation: sourceLocation)
    return found[0]
}

/// The one error loading `files` gives whose message contains `fragment`.
func error(
    containing fragment: String, in files: [String: String], sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
    let all = errors(files)
    let found = all.filter { $0.message.contains(fragment) }
    try #require(
        found.count == 1, "expected one error containing '\(fragment)', got:\n\(describe(all))",
        sourceLocation: sourceLocation)
    return found[0]
}

/// Checks where a diagnostic points and what it says. `message` and `hint` are parts of the text;
/// `column` is checked when given.
func expect(
    _ diagnostic: Diagnostic, file: String, line: Int, column: Int? = nil, message: String, hint: String? = nil,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(diagnostic.severity == .error, sourceLocation: sourceLocation)
    #expect(diagnostic.location.file == file, sourceLocation: sourceLocation)
    #expect(diagnostic.location.line == line, "\(diagnostic)", sourceLocation: sourceLocation)
    if let column {
        #expect(diagnostic.location.column == column, "\(diagnostic)", sourceLocation: sourceLocation)
    }
    #expect(diagnostic.message.contains(message), "\(diagnostic.message)", sourceLocation: sourceLocation)
    if let hint {
        #expect(
            diagnostic.hint?.contains(hint) == true, "hint: \(diagnostic.hint ?? "none")",
            sourceLocation: sourceLocation)
    }
}

func describe(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.isEmpty ? "(none)" : diagnostics.map(\.description).joined(separator: "\n")
}
