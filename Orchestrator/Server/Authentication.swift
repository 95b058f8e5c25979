import Crypto
import Foundation
import Hummingbird
import Identity
import NIOCore
import NIOSSL
package import Store
import Synchronization

/// What an operator may do, by role: viewers read, operators deploy, approvers approve promotions,
/// admins do everything (and manage users and join tokens).
package enum Role: String, Sendable, CaseIterable {
    case viewer, `operator`, approver, admin

    package enum Permission: Sendable {
        case read, deploy, approve, administer
    }

    func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (.admin, _): true
        case (_, .read): true
        case (.operator, .deploy): true
        case (.approver, .approve): true
        default: false
        }
    }
}

/// An authenticated operator.
package struct Operator: Sendable {
    package var name: String
    package var roles: [String: Role]

    /// The role in `environment`: its own entry, else the `*` entry.
    func role(in environment: String) -> Role? { roles[environment] ?? roles["*"] }

    func may(_ permission: Role.Permission, in environment: String) -> Bool {
        role(in: environment)?.allows(permission) ?? false
    }

    /// Whether some environment grants the permission (for actions not bound to one, such as uploads).
    func mayAnywhere(_ permission: Role.Permission) -> Bool { roles.values.contains { $0.allows(permission) } }

    var actor: String { "user:\(name)" }
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

    func requireOperator(_ request: Request) async throws -> Operator {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError.unauthorized("this needs an API token: send it as 'Authorization: Bearer TOKEN'")
        }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let record = try await store.activeOperator(tokenHash: Tokens.hash(token)) else {
            throw APIError.unauthorized("the API token is not known or was revoked")
        }
        var roles: [String: Role] = [:]
        for (environment, name) in record.roles { roles[environment] = Role(rawValue: name) }
        return Operator(name: record.name, roles: roles)
    }

    func require(_ permission: Role.Permission, in environment: String, _ request: Request) async throws -> Operator {
        let user = try await requireOperator(request)
        try Self.check(user, may: permission, in: environment)
        return user
    }

    static func check(_ user: Operator, may permission: Role.Permission, in environment: String) throws {
        guard user.may(permission, in: environment) else {
            throw APIError.forbidden(
                "\(user.name) is \(user.role(in: environment)?.rawValue ?? "nothing") in \(environment) and may not \(verb(permission)) there"
            )
        }
    }

    static func verb(_ permission: Role.Permission) -> String {
        switch permission {
        case .read: "read"
        case .deploy: "deploy"
        case .approve: "approve"
        case .administer: "administer"
        }
    }

    /// The node whose certificate the client presented; refuses anonymous, unknown and revoked ones.
    func requireAgent(_ context: ServerContext) async throws -> AgentIdentity {
        guard let certificate = try? await context.channel.nioSSL_peerCertificate().get() else {
            throw APIError.unauthorized("agent calls need the node's client certificate (mutual TLS)")
        }
        let fingerprint = CertificateFingerprint.of(der: try certificate.toDERBytes())
        let now = Date()
        if let cached = cache.withLock({ $0[fingerprint] }), cached.until > now { return cached.identity }
        guard let record = try await store.certificate(fingerprint: fingerprint), record.revokedAt == nil,
            record.notAfter > now
        else {
            throw APIError.forbidden("this client certificate was not issued to a node, or it was revoked")
        }
        let identity = AgentIdentity(environment: record.environment, node: record.node, fingerprint: fingerprint)
        cache.withLock { $0[fingerprint] = (identity, now.addingTimeInterval(30)) }
        return identity
    }

    /// Either an agent (by certificate) or an operator allowed to read (by token).
    func requireAgentOrReader(_ request: Request, _ context: ServerContext) async throws {
        if request.headers[.authorization] != nil {
            let user = try await requireOperator(request)
            guard user.mayAnywhere(.read) else { throw APIError.forbidden("\(user.name) may not read artifacts") }
            return
        }
        _ = try await requireAgent(context)
    }
}
