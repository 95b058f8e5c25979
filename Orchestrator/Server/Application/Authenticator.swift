import Crypto
import Foundation
import Hummingbird
import Identity
import NIOCore
import NIOSSL
package import StellwerkAPI
package import Store
import Synchronization

/// An authenticated operator.
package struct Operator: Sendable {
    package var name: String
    package var roles: [String: Role]

    /// The role in `environment`: its own entry, else the `*` entry.
    func role(in environment: String) -> Role? { roles[environment] ?? roles["*"] }

    func may(_ permission: Permission, in environment: String) -> Bool {
        role(in: environment)?.allows(permission) ?? false
    }

    /// Whether some environment grants the permission (for actions not bound to one, such as uploads).
    func mayAnywhere(_ permission: Permission) -> Bool { roles.values.contains { $0.allows(permission) } }

    var actor: String { "user:\(name)" }

    /// Refuses, saying what the operator is and what they may not do, unless `environment` allows it.
    func require(_ permission: Permission, in environment: String) throws(APIError) {
        guard may(permission, in: environment) else {
            throw .forbidden(
                "\(name) is \(role(in: environment)?.rawValue ?? "nothing") in \(environment) and may not \(permission.rawValue) there"
            )
        }
    }
}

/// An authenticated agent: the node its certificate was issued to.
package struct AgentIdentity: Sendable {
    package var environment: String
    package var node: String
    package var fingerprint: String
}

/// Checks bearer tokens and client certificates against the store, remembering recent answers briefly
/// so a thousand long-polling agents do not each cost a query per request.
package final class Authenticator: Sendable {
    private let store: StateStore
    private let cache = Mutex<[String: (identity: AgentIdentity, until: Date)]>([:])

    package init(store: StateStore) { self.store = store }

    /// Who sent `request`: an operator by token, else a node by certificate, else nobody.
    func identify(_ request: Request, _ context: ServerContext) async throws -> Caller {
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else {
                return .refused(.unauthorized("send the API token as 'Authorization: Bearer TOKEN'"))
            }
            let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
            guard let record = try await store.activeOperator(tokenHash: Tokens.hash(token)) else {
                return .refused(.unauthorized("the API token is not known or was revoked"))
            }
            return .operator(Operator(name: record.name, roles: record.roles))
        }
        guard let certificate = try? await context.channel.nioSSL_peerCertificate().get() else { return .anonymous }
        let fingerprint = CertificateFingerprint.of(der: try certificate.toDERBytes())
        let now = Date()
        if let cached = cache.withLock({ $0[fingerprint] }), cached.until > now { return .agent(cached.identity) }
        guard let record = try await store.certificate(fingerprint: fingerprint), record.revokedAt == nil,
            record.notAfter > now
        else {
            return .refused(.forbidden("this client certificate was not issued to a node, or it was revoked"))
        }
        let identity = AgentIdentity(environment: record.environment, node: record.node, fingerprint: fingerprint)
        cache.withLock { $0[fingerprint] = (identity, now.addingTimeInterval(30)) }
        return .agent(identity)
    }
}

/// Fills in who is calling before any route runs; the routes' declared access decides what that may do.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let authenticator: Authenticator

    func handle(
        _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.caller = try await authenticator.identify(request, context)
        return try await next(request, context)
    }
}
