/// Database URLs as messages and logs may show them.
package enum ConnectionURL {
    /// `url` with its password replaced by `***`: in `user:password@` and in a `password=` query
    /// parameter (libpq takes both).
    ///
    /// ```swift
    /// ConnectionURL.redacted("postgres://stellwerk:geheim@db:5432/state")  // postgres://stellwerk:***@db:5432/state
    /// ```
    package static func redacted(_ url: String) -> String {
        var text = url
        if let separator = text.firstRange(of: "://") {
            let rest = text[separator.upperBound...]
            let authorityEnd: String.Index = rest.firstIndex { "/?#".contains($0) } ?? text.endIndex
            let authority = text[separator.upperBound..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        if let range = text.firstRange(of: "password=") {
            let end = text[range.upperBound...].firstIndex(of: "&") ?? text.endIndex
            text.replaceSubrange(range.upperBound..<end, with: "***")
        }
        return text
    }
}
