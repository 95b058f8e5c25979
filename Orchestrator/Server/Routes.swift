import Artifacts
import Crypto
import Foundation
import Hummingbird
import Identity
import NIOCore
import StellwerkAPI
import Store
import Telemetry
import X509

/// Every HTTP route of the server.
struct Routes: Sendable {
    let server: OrchestratorServer
    let authenticator: Authenticator
    let hub: EventHub
    let metrics: ServerMetrics

    var store: StateStore { server.store }

    func register(on router: Router<ServerContext>) {
        router.get("/health") { _, _ in try await health() }
        router.get("/metrics") { _, _ in try await metricsText() }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/v1/signing-key") { request, _ in
            _ = try await authenticator.requireOperator(request)
            let key = try server.files.signingPublicKey
            return JSONResponse.make(
                SigningKeyView(
                    publicKey: key, fingerprint: ReleaseSigner.fingerprint(of: Data(base64Encoded: key) ?? Data())))
        }
        router.get("/v1/ca") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/x-pem-file"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: try server.files.authority.certificatePEM)))
        }
        router.post("/v1/join") { request, context in try await join(request, context) }

        // Agents (mutual TLS)
        router.get("/v1/agent/desired-state") { request, context in try await desiredState(request, context) }
        router.post("/v1/agent/report") { request, context in try await report(request, context) }
        router.post("/v1/agent/certificate") { request, context in try await renew(request, context) }

        // Artifacts and releases
        router.get("/v1/artifacts/{sha256}") { request, context in try await artifact(request, context) }
        router.head("/v1/artifacts/{sha256}") { request, context in try await artifact(request, context) }
        router.put("/v1/artifacts/{sha256}") { request, context in try await uploadArtifact(request, context) }
        router.post("/v1/releases") { request, context in try await createRelease(request, context) }
        router.get("/v1/releases") { request, _ in
            _ = try await authenticator.requireOperator(request)
            return JSONResponse.make(try await store.releases().map(sign))
        }
        router.get("/v1/releases/{id}") { request, context in
            _ = try await authenticator.requireOperator(request)
            let id = try context.parameters.require("id")
            guard let manifest = try await store.release(id: id) else {
                throw APIError.notFound("there is no release \(id)")
            }
            return JSONResponse.make(try sign(manifest))
        }

        // Operators
        router.get("/v1/whoami") { request, _ in
            let user = try await authenticator.requireOperator(request)
            return JSONResponse.make(UserRequest(name: user.name, roles: user.roles.mapValues(\.rawValue)))
        }
        router.get("/v1/status") { request, _ in try await status(request) }
        router.get("/v1/environments/{env}/snapshot") { request, context in
            let environment = try context.parameters.require("env")
            _ = try await authenticator.require(.read, in: environment, request)
            return JSONResponse.make(try await store.snapshot(environment: environment))
        }
        router.post("/v1/join-tokens") { request, context in try await createJoinToken(request, context) }
        router.get("/v1/join-tokens") { request, _ in
            _ = try await authenticator.require(.administer, in: "*", request)
            return JSONResponse.make(
                try await store.joinTokens().map { token in
                    [
                        "id": token.id, "environment": token.environment, "site": token.site, "node": token.node,
                        "expiresAt": ISO8601DateFormatter().string(from: token.expiresAt),
                        "used": token.usedAt == nil ? "no" : "yes",
                    ]
                })
        }
        router.post("/v1/users") { request, context in try await createUser(request, context) }
        router.get("/v1/users") { request, _ in
            _ = try await authenticator.require(.administer, in: "*", request)
            return JSONResponse.make(
                try await store.operators().map {
                    UserView(
                        name: $0.name, roles: $0.roles, createdBy: $0.createdBy, createdAt: $0.createdAt,
                        revokedAt: $0.revokedAt)
                })
        }
        router.delete("/v1/users/{name}") { request, context in
            let user = try await authenticator.require(.administer, in: "*", request)
            try await store.revokeOperator(name: try context.parameters.require("name"), actor: user.actor)
            return Response(status: .noContent)
        }
        router.post("/v1/rollouts") { request, context in try await startRollout(request, context) }
        router.get("/v1/rollouts") { request, _ in
            let user = try await authenticator.requireOperator(request)
            let environment = request.uri.queryParameters.get("env")
            let records = try await store.rollouts(environment: environment).filter {
                user.may(.read, in: $0.environment)
            }
            return JSONResponse.make(try records.map(view))
        }
        router.get("/v1/rollouts/{id}") { request, context in
            let record = try await rollout(context)
            _ = try await authenticator.require(.read, in: record.environment, request)
            return JSONResponse.make(try view(record))
        }
        for action in ["pause", "resume", "cancel"] {
            router.post("/v1/rollouts/{id}/\(action)") { request, context in
                try await control(action, request, context)
            }
        }
        router.post("/v1/environments/{env}/rollback") { request, context in try await rollback(request, context) }
        router.get("/v1/environments/{env}/rollback") { request, context in
            let environment = try context.parameters.require("env")
            // The first step of a rollback, so it asks for the right to start one.
            _ = try await authenticator.require(.deploy, in: environment, request)
            return JSONResponse.make(
                try await RolloutPlanner(store: store, signingKey: server.files.signingKey).rollbackPreview(
                    environment: environment))
        }
        registerPromotions(on: router)
        router.get("/v1/events") { request, _ in try await events(request) }
        router.get("/v1/audit") { request, _ in
            _ = try await authenticator.require(.administer, in: "*", request)
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            return JSONResponse.make(try await store.auditEntries(limit: min(max(limit, 1), 10_000)))
        }
    }

    // MARK: Health and metrics

    private func health() async throws -> Response {
        do {
            _ = try await store.schemaVersion()
            return JSONResponse.make(["status": "ok", "version": StellwerkVersion.current])
        } catch {
            return JSONResponse.make(
                ErrorBody(code: "unavailable", message: "the state store does not answer"), status: .serviceUnavailable)
        }
    }

    private func metricsText() async throws -> Response {
        var page = PrometheusText()
        page.counter(
            "stellwerk_http_requests_total", help: "HTTP requests answered, by method, route and status.",
            samples: metrics.requests.samples())
        var byConnection: [[String]: Int] = [:]
        for node in try await store.nodes() {
            byConnection[[node.environment, node.connection.rawValue], default: 0] += 1
        }
        page.gauge(
            "stellwerk_nodes", help: "Known nodes by environment and connection.",
            samples: byConnection.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map {
                PrometheusText.Sample(
                    labels: [("environment", $0.key[0]), ("connection", $0.key[1])], value: Double($0.value))
            })
        var byState: [String: Int] = [:]
        for rollout in try await store.rollouts() { byState[rollout.state, default: 0] += 1 }
        page.gauge(
            "stellwerk_rollouts", help: "Rollouts by state.",
            samples: byState.sorted { $0.key < $1.key }.map {
                PrometheusText.Sample(labels: [("state", $0.key)], value: Double($0.value))
            })
        page.gauge("stellwerk_event_subscribers", help: "Open /v1/events streams.", value: Double(hub.subscriberCount))
        return Response(
            status: .ok, headers: [.contentType: PrometheusText.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page.text)))
    }

    // MARK: Enrollment

    private func join(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await JSONResponse.decode(JoinRequest.self, from: request, context: context)
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
            hub.publish("node.join-refused", environment: "", object: "unknown", detail: error.message)
            throw APIError.forbidden(error.message)
        }
        let certificate: Certificate
        do {
            certificate = try server.files.authority.issueNodeCertificate(
                for: csr, environment: token.environment, node: token.node)
        } catch let error as IdentityError {
            throw APIError.badRequest(error.description)
        }
        let fingerprint = try CertificateFingerprint.of(certificate)
        let existing = try await store.nodes(environment: token.environment).first { $0.name == token.node }
        try await store.upsertNode(
            NodeRecord(
                environment: token.environment, name: token.node, site: token.site,
                address: existing?.address ?? "", labels: existing?.labels ?? [:],
                certificateFingerprint: fingerprint, lastSeen: Date(), connection: .connected),
            actor: "node:\(token.node)")
        try await store.recordCertificate(
            CertificateRecord(
                serial: certificate.serialNumber.description, environment: token.environment, node: token.node,
                fingerprint: fingerprint, notAfter: certificate.notValidAfter, issuedAt: Date()),
            actor: "node:\(token.node)")
        hub.publish("node.join", environment: token.environment, object: token.node, detail: "site \(token.site)")
        return JSONResponse.make(
            JoinResponse(
                environment: token.environment, site: token.site, node: token.node,
                certificate: try certificate.serializeAsPEM().pemString,
                authority: try server.files.authority.certificatePEM, signingKey: try server.files.signingPublicKey))
    }

    private func renew(_ request: Request, _ context: ServerContext) async throws -> Response {
        let agent = try await authenticator.requireAgent(context)
        let body = try await JSONResponse.decode(RenewalRequest.self, from: request, context: context)
        guard let csr = try? CertificateSigningRequest(pemEncoded: body.certificateRequest) else {
            throw APIError.badRequest("certificateRequest is not a PEM certificate signing request")
        }
        let certificate: Certificate
        do {
            certificate = try server.files.authority.issueNodeCertificate(
                for: csr, environment: agent.environment, node: agent.node)
        } catch let error as IdentityError {
            throw APIError.badRequest(error.description)
        }
        try await store.recordCertificate(
            CertificateRecord(
                serial: certificate.serialNumber.description, environment: agent.environment, node: agent.node,
                fingerprint: try CertificateFingerprint.of(certificate), notAfter: certificate.notValidAfter,
                issuedAt: Date()),
            actor: "node:\(agent.node)")
        return JSONResponse.make(RenewalResponse(certificate: try certificate.serializeAsPEM().pemString))
    }

    // MARK: Agent API

    /// Long-polls: answers at once when the node's desired state is newer than `known`, else waits up
    /// to `wait` seconds (at most 60) and answers 204 when nothing changed.
    private func desiredState(_ request: Request, _ context: ServerContext) async throws -> Response {
        let agent = try await authenticator.requireAgent(context)
        let known = request.uri.queryParameters.get("known", as: Int.self) ?? -1
        let wait = min(max(request.uri.queryParameters.get("wait", as: Int.self) ?? 0, 0), 60)
        let deadline = ContinuousClock.now + .seconds(wait)
        var generation = -1
        var lastRead = ContinuousClock.now
        while true {
            let current = hub.generation(of: agent.environment)
            if current != generation || ContinuousClock.now - lastRead > .seconds(10) {
                generation = current
                lastRead = .now
                if let answer = try await desiredStateIfNewer(agent, than: known) { return JSONResponse.make(answer) }
            }
            guard ContinuousClock.now < deadline else { return Response(status: .noContent) }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func desiredStateIfNewer(_ agent: AgentIdentity, than known: Int) async throws -> DesiredStateResponse? {
        if let (serial, state) = try await store.desiredState(environment: agent.environment, node: agent.node) {
            return serial > known ? DesiredStateResponse(serial: serial, state: state) : nil
        }
        // No desired state (never given one, or its instances were removed): an empty one, at the
        // environment's serial, tells the agent to run nothing.
        let serial = try await store.serial(environment: agent.environment)
        guard serial > known, known >= 0 || serial > 0 else { return nil }
        let node = try await store.nodes(environment: agent.environment).first { $0.name == agent.node }
        return DesiredStateResponse(
            serial: serial,
            state: NodeDesiredState(
                node: agent.node, site: node?.site ?? "", environment: agent.environment, address: node?.address ?? "",
                instances: []))
    }

    private func report(_ request: Request, _ context: ServerContext) async throws -> Response {
        let agent = try await authenticator.requireAgent(context)
        let report = try await JSONResponse.decode(NodeReport.self, from: request, context: context)
        guard report.node == agent.node, report.environment == agent.environment else {
            throw APIError.forbidden(
                "this certificate belongs to \(agent.node) in \(agent.environment); it cannot report for \(report.node) in \(report.environment)"
            )
        }
        try await store.recordReport(report)
        hub.publish(
            "node.report", environment: agent.environment, object: agent.node,
            detail: report.instances.map { "\($0.spec.service) \($0.spec.release) \($0.state.rawValue)" }.joined(
                separator: ", "))
        return Response(status: .noContent)
    }

    // MARK: Artifacts

    private func artifactPath(_ context: ServerContext) throws -> (sha256: String, path: String) {
        let sha = try context.parameters.require("sha256").lowercased()
        guard sha.count == 64, sha.allSatisfy(\.isHexDigit) else {
            throw APIError.badRequest("an artifact is named by its SHA-256: 64 hex digits")
        }
        return (sha, server.files.artifactFolder.appendingPathComponent(sha).path)
    }

    /// Serves an artifact, whole or the byte range asked for, so an interrupted download resumes.
    private func artifact(_ request: Request, _ context: ServerContext) async throws -> Response {
        try await authenticator.requireAgentOrReader(request, context)
        let (sha, path) = try artifactPath(context)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw APIError.notFound("there is no artifact \(sha)") }
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .eTag: "\"\(sha)\"",
        ]
        var range = 0...max(size - 1, 0)
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range] {
            guard let asked = Self.byteRange(header, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            range = asked
            status = .partialContent
            headers[.contentRange] = "bytes \(asked.lowerBound)-\(asked.upperBound)/\(size)"
        }
        headers[.contentLength] = String(size == 0 ? 0 : range.count)
        if request.method == .head || size == 0 { return Response(status: status, headers: headers) }
        let body = try await FileIO().loadFile(path: path, range: range, context: context)
        return Response(status: status, headers: headers, body: body)
    }

    /// `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX`; one range only.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0, size > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(parts[0]), start >= 0, start < size else { return nil }
        let end = parts[1].isEmpty ? size - 1 : min(Int(parts[1]) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start...end
    }

    /// Stores an uploaded artifact under its SHA-256 after checking the bytes match the name.
    private func uploadArtifact(_ request: Request, _ context: ServerContext) async throws -> Response {
        let user = try await authenticator.requireOperator(request)
        guard user.mayAnywhere(.deploy) else { throw APIError.forbidden("\(user.name) may not upload artifacts") }
        let (sha, path) = try artifactPath(context)
        if FileManager.default.fileExists(atPath: path) { return Response(status: .noContent) }
        let limit = 2 << 30
        let temporary = server.files.artifactFolder.appendingPathComponent(".upload-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw APIError(.internalServerError, "internal", "cannot write to the artifact folder")
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        let handle = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var total = 0
        do {
            for try await buffer in request.body {
                total += buffer.readableBytes
                guard total <= limit else {
                    throw APIError(.contentTooLarge, "too-large", "artifacts are limited to 2 GiB")
                }
                let bytes = Data(buffer.readableBytesView)
                hasher.update(data: bytes)
                try handle.write(contentsOf: bytes)
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let actual = hasher.finalize().lowercaseHex
        guard actual == sha else {
            throw APIError.badRequest("the uploaded bytes have SHA-256 \(actual), not \(sha)")
        }
        try FileManager.default.moveItem(atPath: temporary.path, toPath: path)
        _ = try await store.audit(
            AuditEvent(actor: user.actor, action: "artifact.upload", object: sha, detail: "\(total) bytes"))
        return Response(status: .created)
    }

    private func sign(_ manifest: ReleaseManifest) throws -> SignedReleaseManifest {
        try ReleaseSigner.sign(manifest, privateKey: server.files.signingKey)
    }

    /// Registers a release whose artifacts were uploaded; a release is immutable.
    private func createRelease(_ request: Request, _ context: ServerContext) async throws -> Response {
        let user = try await authenticator.requireOperator(request)
        guard user.mayAnywhere(.deploy) else { throw APIError.forbidden("\(user.name) may not create releases") }
        var manifest = try await JSONResponse.decode(ReleaseManifest.self, from: request, context: context).content
        guard !manifest.id.isEmpty, manifest.id != ReleaseManifest.unreleased,
            manifest.id.allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) })
        else {
            throw APIError.badRequest(
                "the release id '\(manifest.id)' is empty or holds characters other than letters, digits, - . _")
        }
        for (component, artifact) in manifest.components.sorted(by: { $0.key < $1.key }) {
            let path = server.files.artifactFolder.appendingPathComponent(artifact.sha256.lowercased()).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw APIError.conflict(
                    "the artifact of \(component) (\(artifact.sha256.prefix(12))) was not uploaded; PUT /v1/artifacts/\(artifact.sha256) first"
                )
            }
        }
        if let existing = try await store.release(id: manifest.id) {
            guard existing.content == manifest else {
                throw APIError.conflict("release \(manifest.id) exists with other content; releases are immutable")
            }
            return JSONResponse.make(try sign(existing))
        }
        manifest.createdAt = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        manifest.createdBy = user.name
        try await store.storeRelease(manifest, actor: user.actor)
        hub.publish("release", environment: "", object: manifest.id, detail: "version \(manifest.version)")
        return JSONResponse.make(try sign(manifest), status: .created)
    }

    // MARK: Operators

    private func createJoinToken(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await JSONResponse.decode(JoinTokenRequest.self, from: request, context: context)
        let user = try await authenticator.require(.administer, in: body.environment, request)
        for (name, value) in [("environment", body.environment), ("site", body.site), ("node", body.node)] {
            guard !value.isEmpty, value.count <= 100,
                value.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
            else { throw APIError.badRequest("\(name) '\(value)' must be a name of letters, digits, - _ .") }
        }
        guard (60...(30 * 24 * 3600)).contains(body.ttlSeconds) else {
            throw APIError.badRequest("ttlSeconds must be between 60 (1 minute) and 2592000 (30 days)")
        }
        let token = Tokens.make(prefix: "swj")
        let now = Date()
        let record = JoinTokenRecord(
            id: "jt-" + UUID().uuidString.lowercased().prefix(8), tokenHash: Tokens.hash(token),
            environment: body.environment, site: body.site, node: body.node,
            expiresAt: now.addingTimeInterval(TimeInterval(body.ttlSeconds)), createdBy: user.actor, createdAt: now)
        try await store.createJoinToken(record, actor: user.actor)
        return JSONResponse.make(
            IssuedToken(id: record.id, token: token, expiresAt: record.expiresAt), status: .created)
    }

    private func createUser(_ request: Request, _ context: ServerContext) async throws -> Response {
        let user = try await authenticator.require(.administer, in: "*", request)
        let body = try await JSONResponse.decode(UserRequest.self, from: request, context: context)
        guard !body.name.isEmpty, body.name.count <= 100,
            body.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) })
        else { throw APIError.badRequest("the user name '\(body.name)' must be letters, digits, - _ . @") }
        guard !body.roles.isEmpty else {
            throw APIError.badRequest("give the user at least one role, such as sandbox=operator")
        }
        for (environment, role) in body.roles where Role(rawValue: role) == nil {
            throw APIError.badRequest(
                "'\(role)' for \(environment) is not a role; roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let token = Tokens.make(prefix: "swo")
        try await store.createOperator(
            OperatorRecord(
                name: body.name, tokenHash: Tokens.hash(token), roles: body.roles, createdBy: user.actor,
                createdAt: Date()))
        return JSONResponse.make(IssuedToken(id: body.name, token: token, expiresAt: nil), status: .created)
    }

    private func status(_ request: Request) async throws -> Response {
        let user = try await authenticator.requireOperator(request)
        let only = request.uri.queryParameters.get("env")
        let nodes = try await store.nodes(environment: only)
        let rollouts = try await store.rollouts(environment: only)
        var names = Set(nodes.map(\.environment))
        for rollout in rollouts { names.insert(rollout.environment) }
        if let only { names = names.filter { $0 == only } }
        var environments: [EnvironmentStatus] = []
        let now = Date()
        for environment in names.sorted() where user.may(.read, in: environment) {
            let reports = try await store.reports(environment: environment)
            let desired = try await store.desiredStatesByNode(environment: environment)
            var statuses: [NodeStatus] = []
            var places = Set<String>()
            for node in nodes where node.environment == environment {
                places.insert(node.name)
                statuses.append(
                    nodeStatus(
                        node: node.name, site: node.site, address: node.address, connection: connection(node, now: now),
                        lastSeen: node.lastSeen, desired: desired[node.name]?.state, report: reports[node.name]?.report)
                )
            }
            for (_, state) in desired.values.sorted(by: { $0.state.node < $1.state.node })
            where !places.contains(state.node) {
                statuses.append(
                    nodeStatus(
                        node: state.node, site: state.site, address: state.address, connection: "pending",
                        lastSeen: nil,
                        desired: state, report: reports[state.node]?.report))
            }
            for index in statuses.indices { statuses[index].desiredSerial = desired[statuses[index].node]?.serial }
            environments.append(
                EnvironmentStatus(
                    name: environment, serial: try await store.serial(environment: environment),
                    activeRollout: rollouts.first {
                        $0.environment == environment && RolloutState(rawValue: $0.state)?.isActive == true
                    }?.id,
                    nodes: statuses.sorted { ($0.site, $0.node) < ($1.site, $1.node) }))
        }
        return JSONResponse.make(StatusDocument(generatedAt: now, environments: environments))
    }

    private func connection(_ node: NodeRecord, now: Date) -> String {
        guard let seen = node.lastSeen else { return "pending" }
        return now.timeIntervalSince(seen) > server.configuration.lostAfter ? "disconnected" : "connected"
    }

    private func nodeStatus(
        node: String, site: String, address: String, connection: String, lastSeen: Date?, desired: NodeDesiredState?,
        report: NodeReport?
    ) -> NodeStatus {
        var instances: [InstanceStatus] = []
        let wanted = Dictionary((desired?.instances ?? []).map { ($0.service, $0) }, uniquingKeysWith: { a, _ in a })
        for instance in report?.instances ?? [] {
            instances.append(
                InstanceStatus(
                    service: instance.spec.service, release: instance.spec.release,
                    desiredRelease: wanted[instance.spec.service]?.release, state: instance.state.rawValue,
                    health: instance.health, lastError: instance.lastError, drift: instance.drift))
        }
        let reported = Set(instances.map(\.service))
        for (service, spec) in wanted where !reported.contains(service) {
            instances.append(
                InstanceStatus(
                    service: service, release: "(none)", desiredRelease: spec.release, state: "pending", health: nil,
                    lastError: nil, drift: []))
        }
        return NodeStatus(
            node: node, site: site, address: address.isEmpty ? (desired?.address ?? "") : address,
            connection: connection, lastSeen: lastSeen, desiredSerial: nil, reportedSerial: report?.desiredSerial,
            instances: instances.sorted { $0.service < $1.service })
    }

    // MARK: Rollouts

    private func rollout(_ context: ServerContext) async throws -> RolloutRecord {
        let id = try context.parameters.require("id")
        guard let record = try await store.rollout(id: id)?.rollout else {
            throw APIError.notFound("there is no rollout \(id)")
        }
        return record
    }

    private func view(_ record: RolloutRecord) throws -> RolloutView {
        let document = try JSONResponse.decoder.decode(RolloutDocument.self, from: Data(record.document.utf8))
        return RolloutView(
            id: record.id, environment: record.environment, release: record.release, state: record.state,
            message: document.message, createdBy: document.createdBy, createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            steps: document.steps.map {
                RolloutStepView(
                    node: $0.node, site: $0.site, wave: $0.wave, state: $0.state.rawValue, detail: $0.detail,
                    startedAt: $0.startedAt, updatedAt: $0.updatedAt)
            })
    }

    private func startRollout(_ request: Request, _ context: ServerContext) async throws -> Response {
        // Plans for thousands of nodes are large; only an authenticated operator may send one.
        let user = try await authenticator.requireOperator(request)
        let body = try await JSONResponse.decode(ApplyRequest.self, from: request, context: context, limit: 64 << 20)
        let plan = body.plan
        try Authenticator.check(user, may: .deploy, in: plan.environment)
        let record = try await RolloutPlanner(store: store, signingKey: server.files.signingKey).start(
            plan, actor: user.actor)
        hub.publish("rollout", environment: record.environment, object: record.id, detail: record.state)
        return JSONResponse.make(try view(record), status: .created)
    }

    private func control(_ action: String, _ request: Request, _ context: ServerContext) async throws -> Response {
        let record = try await rollout(context)
        let user = try await authenticator.require(.deploy, in: record.environment, request)
        guard let state = RolloutState(rawValue: record.state) else {
            throw APIError.conflict("the rollout is \(record.state)")
        }
        let next: RolloutState
        switch (action, state) {
        case ("pause", .running): next = .paused
        case ("resume", .paused): next = .running
        case ("cancel", .running), ("cancel", .paused), ("cancel", .rollingBack): next = .cancelled
        default:
            throw APIError.conflict("rollout \(record.id) is \(record.state); it cannot \(action) now")
        }
        var document = try JSONResponse.decoder.decode(RolloutDocument.self, from: Data(record.document.utf8))
        document.lastProgressAt = Date()
        if next == .cancelled { document.message = "cancelled by \(user.name); nodes keep what they have" }
        try await store.updateRollout(
            id: record.id, state: next.rawValue,
            document: String(decoding: try JSONResponse.encoder.encode(document), as: UTF8.self), actor: user.actor)
        hub.publish("rollout", environment: record.environment, object: record.id, detail: next.rawValue)
        guard let updated = try await store.rollout(id: record.id)?.rollout else {
            throw APIError.notFound("rollout vanished")
        }
        return JSONResponse.make(try view(updated))
    }

    // MARK: Promotions

    private var promotions: PromotionEngine {
        PromotionEngine(store: store, hub: hub, signingKey: server.files.signingKey)
    }

    private func registerPromotions(on router: Router<ServerContext>) {
        router.post("/v1/promotions") { request, context in
            let user = try await authenticator.requireOperator(request)
            let body = try await JSONResponse.decode(
                PromotionRequest.self, from: request, context: context, limit: 64 << 20)
            try Authenticator.check(user, may: .deploy, in: body.plan.environment)
            let view = try await promotions.request(body, actor: user.actor, requester: user.name)
            return JSONResponse.make(view, status: body.dryRun ? .ok : .created)
        }
        router.get("/v1/promotions") { request, _ in
            let user = try await authenticator.requireOperator(request)
            let records = try await store.promotions(target: request.uri.queryParameters.get("env")).filter {
                user.may(.read, in: $0.target)
            }
            var views: [PromotionView] = []
            for record in records { views.append(try await promotions.view(id: record.id)) }
            return JSONResponse.make(views)
        }
        router.get("/v1/promotions/{id}") { request, context in
            let view = try await promotions.view(id: try context.parameters.require("id"))
            _ = try await authenticator.require(.read, in: view.target, request)
            return JSONResponse.make(view)
        }
        for decision in ["approve", "reject"] {
            router.post("/v1/promotions/{id}/\(decision)") { request, context in
                let promotion = try await promotions.view(id: try context.parameters.require("id"))
                let user = try await authenticator.require(.approve, in: promotion.target, request)
                let body = try await JSONResponse.decode(DecisionRequest.self, from: request, context: context)
                if decision == "reject", body.reason.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw APIError.badRequest("a rejection needs a reason")
                }
                return JSONResponse.make(
                    try await promotions.decide(
                        promotion.id, approve: decision == "approve", reason: body.reason, approver: user.name))
            }
        }
        router.post("/v1/promotions/{id}/cancel") { request, context in
            let promotion = try await promotions.view(id: try context.parameters.require("id"))
            let user = try await authenticator.require(.deploy, in: promotion.target, request)
            return JSONResponse.make(try await promotions.cancel(promotion.id, actor: user.actor))
        }
    }

    private func rollback(_ request: Request, _ context: ServerContext) async throws -> Response {
        let environment = try context.parameters.require("env")
        let user = try await authenticator.require(.deploy, in: environment, request)
        let record = try await RolloutPlanner(store: store, signingKey: server.files.signingKey).rollback(
            environment: environment, actor: user.actor)
        hub.publish("rollout", environment: environment, object: record.id, detail: record.state)
        return JSONResponse.make(try view(record), status: .created)
    }

    // MARK: Events

    private func events(_ request: Request) async throws -> Response {
        let user = try await authenticator.requireOperator(request)
        let after =
            request.headers.first(where: { $0.name.canonicalName == "last-event-id" }).flatMap { Int($0.value) }
            ?? request.uri.queryParameters.get("after", as: Int.self)
        let only = request.uri.queryParameters.get("env")
        let stream = hub.subscribe(after: after)
        let encoder = JSONResponse.encoder
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": stellwerk events\n\n"))
                for await event in stream {
                    if let only, event.environment != only, !event.environment.isEmpty { continue }
                    if !event.environment.isEmpty, !user.may(.read, in: event.environment) { continue }
                    let data = String(decoding: (try? encoder.encode(event)) ?? Data(), as: UTF8.self)
                    try await writer.write(
                        ByteBuffer(string: "id: \(event.sequence)\nevent: \(event.type)\ndata: \(data)\n\n"))
                }
                try await writer.finish(nil)
            })
    }
}
