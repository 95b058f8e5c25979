/// Why a database operation failed, with what a user needs to act on it.
///
/// The message never contains a password: store URLs are shown redacted.
package struct DatabaseError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        /// The store URL cannot be understood.
        case invalidLocation
        /// The database could not be opened or reached (no file, connection refused, bad credentials).
        case unavailable
        /// The store's schema is newer than this program knows.
        case schemaTooNew
        /// The store's schema is older than this program needs, and it was opened without migrating.
        case schemaTooOld
        /// A statement failed.
        case query
        /// Desired state was written against a serial that is no longer current.
        case staleSerial
        /// Something that must exist does not.
        case notFound
        /// Something that must not change already exists with other content.
        case conflict
        /// The operation is not possible with this kind of store.
        case unsupported
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }

    /// Adds what was being done, as a gerund phrase: "writing desired state of sandbox: …".
    package func context(_ doing: String) -> DatabaseError {
        DatabaseError(code, "\(doing): \(message)")
    }
}
