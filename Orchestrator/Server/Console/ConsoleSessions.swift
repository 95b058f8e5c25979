package import Foundation
import Synchronization

/// The console's sign-ins: a session per browser, kept in this server's memory, bound to the hash of
/// the operator token it was opened with. Each request asks the store whether that token is still
/// active, so a revoked operator's sessions end at their next click; a session also ends when its
/// lifetime is over, at sign-out, and when the server restarts.
package final class ConsoleSessions: Sendable {
    package struct Session: Sendable {
        package var tokenHash: String
        /// Every form of the session carries it; a form without it is refused.
        package var csrf: String
        package var expiresAt: Date
    }

    package let lifetime: TimeInterval
    /// The most sessions kept at once: past it, the oldest are ended first.
    package static let limit = 10_000
    private let sessions = Mutex<[String: Session]>([:])

    package init(lifetime: TimeInterval) { self.lifetime = lifetime }

    /// Opens a session for the token with hash `tokenHash`; answers its id (the cookie's value).
    package func open(tokenHash: String, now: Date = Date()) -> (id: String, session: Session) {
        let id = Tokens.random(bytes: 32)
        let session = Session(tokenHash: tokenHash, csrf: Tokens.random(bytes: 24), expiresAt: now + lifetime)
        sessions.withLock { sessions in
            if sessions.count >= Self.limit {
                sessions = sessions.filter { $0.value.expiresAt > now }
                while sessions.count >= Self.limit,
                    let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt })
                {
                    sessions[oldest.key] = nil
                }
            }
            sessions[id] = session
        }
        return (id, session)
    }

    /// The session `id`, unless there is none or it has expired (then it is forgotten).
    package func session(_ id: String?, now: Date = Date()) -> Session? {
        guard let id, id.utf8.count <= 128 else { return nil }
        return sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expiresAt > now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    package func close(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }
}
