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
    /// The certificate it presented (DER); secrets for the node are sealed to its key.
    package var certificate: [UInt8] = []
}

/// Checks bearer tokens and client certificates against the store on every request, so a revoked
/// certificate or token is refused at once, on every server that shares the store.
package final class Authenticator: Sendable {
    private let store: StateStore
    /// Certificates this server has seen supersede their node's earlier ones, so the store is asked
    /// to revoke those once, not on every request.
    private let superseding = Mutex<Set<String>>([])

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
            if record.awaitingApproval {
                return .refused(
                    .unauthorized(
                        "the roles of \(record.name) decide on an environment with a promotion source and wait for a "
                            + "second admin: `stellwerk user approve \(record.name)`"))
            }
            return .operator(Operator(name: record.name, roles: record.roles))
        }
        guard let certificate = try? await context.channel.nioSSL_peerCertificate().get() else { return .anonymous }
        let der = try certificate.toDERBytes()
        let fingerprint = CertificateFingerprint.of(der: der)
        guard let (record, isNodesLatest) = try await store.presentedCertificate(fingerprint: fingerprint) else {
            return .refused(.forbidden("this client certificate was not issued to a node of this orchestrator"))
        }
        if record.revokedAt != nil {
            return .refused(
                .forbidden(
                    "the certificate of \(record.node) (serial \(record.serial)) was revoked or superseded; join the node again with a new token"
                ))
        }
        guard record.notAfter > Date() else {
            return .refused(
                .forbidden(
                    "the certificate of \(record.node) (serial \(record.serial)) has expired; join the node again with a new token"
                ))
        }
        // A renewed certificate, presented for the first time: the one before it is done.
        let firstSeen = superseding.withLock { seen in
            if seen.count >= 100_000 { seen.removeAll() }  // asking the store again is harmless
            return seen.insert(fingerprint).inserted
        }
        if isNodesLatest, firstSeen {
            try await store.supersedeCertificates(
                environment: record.environment, node: record.node, keeping: fingerprint)
        }
        return .agent(
            AgentIdentity(
                environment: record.environment, node: record.node, fingerprint: fingerprint, certificate: der))
    }
}

/// Fills in who is calling before any route runs; the routes' declared access decides what that may do.
/// Every refusal of a caller (401, 403, 429) is audited, aggregated so that a flood stays one entry
/// a minute.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let authenticator: Authenticator
    let refusals: RefusalAudit

    func handle(
        _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.caller = try await authenticator.identify(request, context)
        do {
            return try await next(request, context)
        } catch {
            let failure = ErrorMiddleware.apiError(error, request: request)
            if [.unauthorized, .forbidden, .tooManyRequests].contains(failure.code) {
                await refusals.record(
                    caller: context.caller.auditName(from: context.clientAddress),
                    status: Int(failure.status.code), request: "\(request.method) \(request.uri.path)",
                    message: failure.message)
            }
            throw error
        }
    }
}

extension Caller {
    /// Who the audit log says was refused: the operator or node, else the address.
    func auditName(from address: String) -> String {
        switch self {
        case .operator(let user): user.actor
        case .agent(let agent): "node:\(agent.node)"
        case .anonymous, .refused: "anonymous@\(address)"
        }
    }
}
