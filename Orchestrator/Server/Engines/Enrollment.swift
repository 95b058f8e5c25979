import Authority
import Foundation
import Identity
import StellwerkAPI
import Store
import X509

/// The agents' side of the orchestrator: joining with a token, renewing a certificate, reporting, and
/// what desired state a node gets.
struct Enrollment: Sendable {
    let store: StateStore
    let hub: EventHub
    let files: ServerFiles
    let certificateLifetime: TimeInterval
    let secrets: SecretVault
    let roster: ServerRoster

    /// Redeems a join token for a node certificate; a refused token is said on the event stream.
    func join(_ body: JoinRequest) async throws -> JoinResponse {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: body.certificateRequest)
        } catch {
            throw APIError.badRequest("certificateRequest is not a PEM certificate signing request")
        }
        let token: JoinTokenRecord
        do {
            token = try await store.redeemJoinToken(hash: Tokens.hash(body.token))
        } catch let error as StoreError where error.code == .notFound || error.code == .conflict {
            hub.publish(.nodeJoinRefused, environment: "", object: "unknown", detail: error.message)
            throw APIError.forbidden(error.message)
        }
        let certificate = try issue(csr, environment: token.environment, node: token.node)
        let fingerprint = try CertificateFingerprint.of(certificate)
        let existing = try await store.node(environment: token.environment, name: token.node)
        try await store.upsertNode(
            NodeRecord(
                environment: token.environment, name: token.node, site: token.site,
                address: existing?.address ?? "", labels: existing?.labels ?? [:],
                certificateFingerprint: fingerprint, lastSeen: Date(), connection: .connected),
            actor: "node:\(token.node)")
        // Whatever the node held before (a lost disk, a stolen key) is done the moment it joins anew.
        try await record(certificate, environment: token.environment, node: token.node, supersedingAtOnce: true)
        hub.publish(.nodeJoin, environment: token.environment, object: token.node, detail: "site \(token.site)")
        return JoinResponse(
            environment: token.environment, site: token.site, node: token.node,
            certificate: try certificate.serializeAsPEM().pemString,
            authority: try files.authority.certificatePEM, signingKey: try files.signingPublicKey,
            orchestrators: roster.urls.isEmpty ? nil : roster.urls)
    }

    /// A certificate for the agent's new key, signed in over its current identity.
    func renew(_ body: RenewalRequest, for agent: AgentIdentity) async throws -> RenewalResponse {
        guard let csr = try? CertificateSigningRequest(pemEncoded: body.certificateRequest) else {
            throw APIError.badRequest("certificateRequest is not a PEM certificate signing request")
        }
        let certificate = try issue(csr, environment: agent.environment, node: agent.node)
        try await record(certificate, environment: agent.environment, node: agent.node)
        return RenewalResponse(certificate: try certificate.serializeAsPEM().pemString)
    }

    /// Records what a node reports; a node reports only for itself.
    func report(_ report: NodeReport, from agent: AgentIdentity) async throws {
        guard report.node == agent.node, report.environment == agent.environment else {
            throw APIError.forbidden(
                "this certificate belongs to \(agent.node) in \(agent.environment); it cannot report for \(report.node) in \(report.environment)"
            )
        }
        try await store.recordReport(report)
        hub.publish(
            .nodeReport, environment: agent.environment, object: agent.node,
            detail: report.instances.map { "\($0.spec.service) \($0.spec.release) \($0.state.rawValue)" }.joined(
                separator: ", "))
    }

    /// The node's desired state when it is newer than `known`, waiting up to `wait` seconds for a
    /// change: woken the moment the environment's desired state changes, and looking again every 10 s
    /// for changes another server made.
    ///
    /// `orchestrators` names the list of servers the agent has (``OrchestratorSettings/digest(of:)``); when it
    /// is not this server's, the answer comes at once, at the agent's serial, with the current list.
    func desiredState(
        for agent: AgentIdentity, known: Int, wait: Duration, orchestrators: String? = nil
    ) async throws -> DesiredStateResponse? {
        let deadline = ContinuousClock.now + wait
        while true {
            let remaining = deadline - .now
            let answer = try await hub.waitForChange(
                in: agent.environment, node: agent.node, timeout: min(max(remaining, .zero), .seconds(10))
            ) { () async throws -> DesiredStateResponse? in
                let urls = roster.urls
                let listChanged = orchestrators.map { !urls.isEmpty && $0 != OrchestratorSettings.digest(of: urls) }
                var answer = try await desiredStateIfNewer(agent, than: known, anyway: listChanged == true)
                if !urls.isEmpty { answer?.orchestrators = urls }
                return answer
            }
            if let answer { return answer }
            // A stopping server answers at once: its shutdown waits for open requests.
            if ContinuousClock.now >= deadline || hub.isClosed { return nil }
        }
    }

    /// `anyway`: the current one even when it is not newer (the agent's list of servers is out of date).
    private func desiredStateIfNewer(
        _ agent: AgentIdentity, than known: Int, anyway: Bool = false
    ) async throws -> DesiredStateResponse? {
        // The environment's serial is read before the node's state: a state written for the node in
        // between carries a higher serial, so the agent still gets it on its next poll. Read after, it
        // would tell the agent "run nothing" at the serial of the state it then never receives.
        let serial = try await store.serial(environment: agent.environment)
        if let (written, newer) = try await store.desiredState(
            environment: agent.environment, node: agent.node, newerThan: anyway ? Int.min : known)
        {
            guard let state = newer else { return nil }
            return DesiredStateResponse(
                serial: written, state: state,
                secrets: try await secrets.delivery(for: state, serial: written, certificate: agent.certificate))
        }
        // No desired state (never given one, or its instances were removed): an empty one, at the
        // environment's serial, tells the agent to run nothing.
        guard (serial > known && (known >= 0 || serial > 0)) || anyway else { return nil }
        let node = try await store.node(environment: agent.environment, name: agent.node)
        return DesiredStateResponse(
            serial: serial,
            state: NodeDesiredState(
                node: agent.node, site: node?.site ?? "", environment: agent.environment, address: node?.address ?? "",
                instances: []))
    }

    private func issue(_ csr: CertificateSigningRequest, environment: String, node: String) throws -> Certificate {
        do {
            return try files.authority.issueNodeCertificate(
                for: csr, environment: environment, node: node, lifetime: certificateLifetime)
        } catch let error as IdentityError {
            throw APIError.badRequest(error.description)
        }
    }

    private func record(
        _ certificate: Certificate, environment: String, node: String, supersedingAtOnce: Bool = false
    ) async throws {
        try await store.recordCertificate(
            CertificateRecord(
                serial: certificate.serialNumber.description, environment: environment, node: node,
                fingerprint: try CertificateFingerprint.of(certificate), notAfter: certificate.notValidAfter,
                issuedAt: Date()),
            actor: "node:\(node)", supersedingAtOnce: supersedingAtOnce)
    }
}
