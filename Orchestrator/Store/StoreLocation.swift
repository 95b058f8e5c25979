import Database

/// Where the state lives: `sqlite:PATH` (the embedded default) or `postgres://user@host:port/db`.
package enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    /// A libpq connection URL (`postgres://` or `postgresql://`, with `?sslmode=…` for TLS).
    case postgres(url: String)

    /// Parses a `--store` value, or says what is wrong with it.
    package init(parsing text: String) throws(StoreError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }  // sqlite:///abs/path
            guard !path.isEmpty else {
                throw StoreError(.invalidLocation, "the store URL '\(text)' names no file; write sqlite:PATH")
            }
            self = .sqlite(path: path)
            return
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            let rest = text.drop { $0 != "/" }.dropFirst(2)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            let host = authority.split(separator: "@").last ?? ""
            guard !host.isEmpty, !text.contains(where: { $0.isWhitespace }) else {
                throw StoreError(
                    .invalidLocation,
                    "the store URL '\(Self.redact(text))' names no host; write postgres://USER@HOST:PORT/DATABASE")
            }
            self = .postgres(url: text)
            return
        }
        throw StoreError(
            .invalidLocation,
            "unknown store URL '\(Self.redact(text))'; use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
    }

    /// The URL as it may be printed: a password is replaced by `***`.
    package var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redact(url)
        }
    }

    /// Replaces the password in `user:password@` and in a `password=` query parameter.
    package static func redact(_ url: String) -> String { ConnectionURL.redacted(url) }
}
