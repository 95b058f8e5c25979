import Foundation
import StellwerkAPI
import Store

/// Operators and join tokens: who may call the API, and which node may join. Names are checked here,
/// and every token is shown once and kept only as its hash.
struct AccessDirectory: Sendable {
    let store: StateStore

    /// Creates the first admin when there is no operator yet; returns its token (shown once).
    func bootstrapAdmin() async throws -> String? {
        guard try await store.operators().isEmpty else { return nil }
        let token = Tokens.make(prefix: "swo")
        try await store.createOperator(
            OperatorRecord(
                name: "admin", tokenHash: Tokens.hash(token), roles: ["*": .admin], createdBy: "server",
                createdAt: Date()))
        return token
    }

    func createUser(_ body: UserRequest, actor: String) async throws -> IssuedToken {
        guard !body.name.isEmpty, body.name.count <= 100,
            body.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) })
        else { throw APIError.badRequest("the user name '\(body.name)' must be letters, digits, - _ . @") }
        guard !body.roles.isEmpty else {
            throw APIError.badRequest("give the user at least one role, such as sandbox=operator")
        }
        for environment in body.roles.keys where environment != "*" {
            try Self.checkName("environment", environment)
        }
        let token = Tokens.make(prefix: "swo")
        let governed = try await decidesOnGoverned(body.roles)
        try await store.createOperator(
            OperatorRecord(
                name: body.name, tokenHash: Tokens.hash(token), roles: body.roles, createdBy: actor,
                createdAt: Date(), awaitingApproval: !governed.isEmpty))
        return IssuedToken(id: body.name, token: token, expiresAt: nil)
    }

    /// The environments whose recorded policy has a promotion source and on which `roles` could
    /// decide: granting such a role is itself a four-eyes change. (A proposal is not in force yet;
    /// nobody who became an operator after it may approve it anyway.)
    func decidesOnGoverned(_ roles: [String: Role]) async throws -> [String] {
        var governed: [String] = []
        for record in try await store.policies() {
            guard let document = record.recorded?.document, try EnvironmentPolicies.decode(document).isGoverned
            else { continue }
            if (roles[record.environment] ?? roles["*"])?.allows(.approve) == true
                || roles["*"]?.allows(.approve) == true
            {
                governed.append(record.environment)
            }
        }
        return governed
    }

    func approveUser(_ name: String, approver: String) async throws -> UserView {
        Self.view(try await store.approveOperator(name: name, approver: approver))
    }

    func users() async throws -> [UserView] {
        try await store.operators().map(Self.view)
    }

    static func view(_ record: OperatorRecord) -> UserView {
        UserView(
            name: record.name, roles: record.roles, createdBy: record.createdBy, createdAt: record.createdAt,
            revokedAt: record.revokedAt, awaitingApproval: record.awaitingApproval, approvedBy: record.approvedBy)
    }

    func createJoinToken(_ body: JoinTokenRequest, actor: String) async throws -> IssuedToken {
        for (name, value) in [("environment", body.environment), ("site", body.site), ("node", body.node)] {
            try Self.checkName(name, value)
        }
        guard (60...(30 * 24 * 3600)).contains(body.ttlSeconds) else {
            throw APIError.badRequest("ttlSeconds must be between 60 (1 minute) and 2592000 (30 days)")
        }
        let token = Tokens.make(prefix: "swj")
        let now = Date()
        let record = JoinTokenRecord(
            id: "jt-" + UUID().uuidString.lowercased().prefix(8), tokenHash: Tokens.hash(token),
            environment: body.environment, site: body.site, node: body.node,
            expiresAt: now.addingTimeInterval(TimeInterval(body.ttlSeconds)), createdBy: actor, createdAt: now)
        try await store.createJoinToken(record, actor: actor)
        return IssuedToken(id: record.id, token: token, expiresAt: record.expiresAt)
    }

    func joinTokens() async throws -> [JoinTokenView] {
        try await store.joinTokens().map {
            JoinTokenView(
                id: $0.id, environment: $0.environment, site: $0.site, node: $0.node, expiresAt: $0.expiresAt,
                used: $0.usedAt != nil)
        }
    }

    /// The nodes of `environment` (or every environment `mayRead` allows) with their certificates.
    func nodes(
        environment: String?, mayRead: (String) -> Bool, now: Date = Date()
    ) async throws
        -> [NodeCertificateView]
    {
        try await store.nodeCertificates(environment: environment).filter { mayRead($0.node.environment) }.map {
            Self.view($0.node, $0.certificate, now: now)
        }
    }

    /// Revokes the node's certificates; it is refused from its next request on.
    func revoke(node: String, environment: String, actor: String) async throws -> (NodeCertificateView, [String]) {
        // The store's not-found and conflict answer as 404 and 409 (ErrorMiddleware).
        let serials = try await store.revokeCertificates(environment: environment, node: node, actor: actor)
        guard
            let revoked = try await store.nodeCertificates(environment: environment).first(where: {
                $0.node.name == node
            })
        else { throw APIError.notFound("there is no node \(node) in \(environment)") }
        return (Self.view(revoked.node, revoked.certificate, now: Date()), serials)
    }

    /// Decommissions a node a rollout left without instances (see ``StateStore/removeNode``); not
    /// while a rollout runs in its environment, which may still be about to give it some.
    func remove(node: String, environment: String, force: Bool, actor: String) async throws -> [String] {
        if let active = try await store.rollouts(environment: environment).first(where: \.state.isActive) {
            throw APIError.conflict(
                "rollout \(active.id) is still \(active.state.rawValue) in \(environment); remove \(node) once it ended"
            )
        }
        return try await store.removeNode(environment: environment, node: node, force: force, actor: actor)
    }

    static func view(_ node: NodeRecord, _ certificate: CertificateRecord?, now: Date) -> NodeCertificateView {
        let state: NodeCertificateView.State
        if let certificate {
            let renewal = certificate.issuedAt.addingTimeInterval(
                certificate.notAfter.timeIntervalSince(certificate.issuedAt) * 2 / 3)
            state =
                certificate.revokedAt != nil
                ? .revoked : certificate.notAfter <= now ? .expired : now >= renewal ? .renewalDue : .valid
        } else {
            state = .none
        }
        return NodeCertificateView(
            environment: node.environment, site: node.site, node: node.name, connection: node.connection,
            lastSeen: node.lastSeen, state: state, serial: certificate?.serial, fingerprint: certificate?.fingerprint,
            issuedAt: certificate?.issuedAt, notAfter: certificate?.notAfter, revokedAt: certificate?.revokedAt)
    }

    /// Environment, site and node names: what blueprints and sites allow, and nothing that could
    /// break out of a path or a log line.
    static func checkName(_ what: String, _ value: String) throws(APIError) {
        guard !value.isEmpty, value.count <= 100,
            value.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        else { throw .badRequest("\(what) '\(value)' must be a name of letters, digits, - _ .") }
    }
}
