import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Server
import StellwerkAPI
import Store
import TestSupport
import Testing

/// The orchestrator's API in process, through its router (HummingbirdTesting): every endpoint
/// registered from its declaration, the happy paths, and what it refuses and how it says so.
@Suite struct RouterTests {
    /// A server on a fresh SQLite store, its first admin's token, and a client for its router.
    private func withServer(
        _ body: @Sendable (_ client: any TestClientProtocol, _ admin: String, _ store: StateStore) async throws -> Void
    ) async throws {
        let folder = try Fixtures.temporaryFolder("router")
        let store = try await StateStore.open(.sqlite(path: folder.appendingPathComponent("state.sqlite").path))
        defer { store.close() }
        let server = OrchestratorServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, advertisedHosts: ["127.0.0.1"]),
            files: try ServerFiles(folder: folder.appendingPathComponent("server")), store: store,
            logger: Logger(label: "router-tests"))
        let admin = try #require(try await server.bootstrapAdmin())
        let application = Application(router: try server.makeRouter())
        try await application.test(.router) { client in try await body(client, admin, store) }
    }

    private func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
        json: String? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(
            uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try WireJSON.decoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    private func error(_ response: TestResponse) throws -> ErrorBody.Detail {
        try decode(ErrorBody.self, response).error
    }

    @Test func everyDeclaredEndpoint_isRegistered_andAnswersWithoutCredentialsAsItsAccessSays() async throws {
        try await withServer { client, _, _ in
            for endpoint in Endpoints.all {
                let path = endpoint.path.replacing(#/\{[a-z0-9]+\}/#, with: "x")
                let response = try await call(client, HTTPRequest.Method(rawValue: endpoint.method.rawValue)!, path)
                let text = String(buffer: response.body)
                #expect(!text.contains("there is no"), "\(endpoint.method.rawValue) \(endpoint.path): \(text)")
                #expect(response.status != .methodNotAllowed, "\(endpoint.method.rawValue) \(endpoint.path)")
                switch endpoint.access {
                case .anyone:
                    #expect(response.status.code < 500, "\(endpoint.method.rawValue) \(endpoint.path): \(text)")
                case .agent, .agentOrReader, .signedIn, .role:
                    #expect(response.status == .unauthorized, "\(endpoint.method.rawValue) \(endpoint.path): \(text)")
                    #expect(try error(response).code == .unauthorized)
                }
            }
        }
    }

    /// Issue #18: every endpoint that needs a role, called by a viewer, an operator and an approver of
    /// another environment. Each refusal is a 403 and leaves an audit entry; what their roles allow
    /// anywhere (uploading artifacts, registering releases as an operator) is not refused.
    @Test func everyRoleEndpoint_refusesOperatorsOfAnotherEnvironment_andAuditsEachRefusal() async throws {
        try await withServer { client, admin, store in
            let now = Date()
            let encoder = WireJSON.encoder()
            func json(_ value: some Encodable) throws -> String {
                String(decoding: try encoder.encode(value), as: UTF8.self)
            }
            let plan = Plan(environment: "e", serial: 0, release: "r-1", revision: "x", sites: [], warnings: [])
            try await store.createRollout(
                RolloutRecord(
                    id: "ro-e", environment: "e", release: "r-1", serial: 1, state: .succeeded,
                    document:
                        #"{"settings": {"canary": 0, "maxInFlight": 1, "maxInFlightPercent": false, "minHealthySeconds": 0, "healthyDeadlineSeconds": 10, "progressDeadlineSeconds": 10, "autoRollback": true, "lostAfterSeconds": 30, "onDisconnected": "wait"}, "createdBy": "user:admin", "message": "done", "steps": [], "lastProgressAt": "2026-12-01T10:00:00Z"}"#,
                    createdAt: now, updatedAt: now), targets: [], actor: "user:admin")
            let policy = PromotionPolicy(
                source: "s", soakSeconds: 0, approvals: 1, respectWindows: false, canarySite: nil, maxSitesInFlight: 1,
                windows: [:])
            try await store.createPromotion(
                PromotionRecord(
                    id: "pr-e", release: "r-1", source: "s", target: "e", requestedBy: "admin", state: .waiting,
                    document:
                        #"{"policy": \#(try json(policy)), "plan": \#(try json(plan)), "message": "", "gates": [], "sites": []}"#,
                    createdAt: now, updatedAt: now))
            try await store.upsertNode(
                NodeRecord(environment: "e", name: "n1", site: "a", address: "127.0.0.1", labels: [:]),
                actor: "user:admin")
            var tokens: [(Role, String)] = []
            for role in [Role.viewer, .operator, .approver] {
                let created = try await call(
                    client, .post, Endpoints.createUser.path, token: admin,
                    json: #"{"name": "\#(role.rawValue)-other", "roles": {"other": "\#(role.rawValue)"}}"#)
                tokens.append((role, try decode(IssuedToken.self, created).token))
            }
            let bodies: [String: String] = [
                "POST /v1/rollouts": try json(ApplyRequest(plan: plan)),
                "POST /v1/promotions": try json(PromotionRequest(plan: plan, dryRun: false)),
                "POST /v1/join-tokens": try json(
                    JoinTokenRequest(environment: "e", site: "a", node: "n1", ttlSeconds: 600)),
                "POST /v1/users": #"{"name": "z", "roles": {"other": "viewer"}}"#,
                "POST /v1/promotions/{id}/approve": #"{"reason": "x"}"#,
                "POST /v1/promotions/{id}/reject": #"{"reason": "x"}"#,
                "POST /v1/releases": "{}",
            ]
            var refused = 0
            for endpoint in Endpoints.all {
                guard case .role(let permission, let scope) = endpoint.access else { continue }
                let line = "\(endpoint.method.rawValue) \(endpoint.path)"
                let id = endpoint.path.hasPrefix("/v1/promotions/") ? "pr-e" : "ro-e"
                var path = endpoint.path
                for (name, value) in [
                    ("env", "e"), ("id", id), ("node", "n1"),
                    ("name", endpoint.path.hasPrefix("/v1/users") ? "admin" : "x"),
                    ("sha256", String(repeating: "0", count: 64)),
                ] {
                    path = path.replacingOccurrences(of: "{\(name)}", with: value)
                }
                for (role, token) in tokens {
                    let response = try await call(
                        client, HTTPRequest.Method(rawValue: endpoint.method.rawValue)!, path, token: token,
                        json: bodies[line])
                    let text = String(buffer: response.body)
                    if case .anyEnvironment = scope, role.allows(permission) {
                        #expect(![401, 403].contains(response.status.code), "\(role) \(line): \(text)")
                    } else {
                        #expect(response.status == .forbidden, "\(role) \(line): \(text)")
                        refused += 1
                    }
                }
            }
            let audit = try decode(
                [AuditEntryView].self,
                try await call(client, .get, Endpoints.audit.path + "?limit=1000", token: admin))
            let audited = audit.filter { $0.action == "request.refuse" }
            #expect(audited.count == refused, "\(audited.map { "\($0.actor) \($0.object)" })")
            #expect(audited.allSatisfy { $0.actor.hasSuffix("-other") && $0.detail.hasPrefix("403: ") })
            // Nothing was changed in e by any of them.
            #expect(try await store.joinTokens(environment: "e").isEmpty)
            #expect(try await store.rollouts(environment: "e").map(\.id) == ["ro-e"])
            #expect(try await store.promotion(id: "pr-e")?.promotion.state == .waiting)
        }
    }

    @Test func health_metricsAndTheAPIDocument_answerAnyone_GETAndHEAD() async throws {
        try await withServer { client, _, _ in
            let health = try await call(client, .get, Endpoints.health.path)
            #expect(health.status == .ok)
            #expect(try decode(HealthView.self, health) == HealthView(status: "ok", version: StellwerkVersion.current))
            let head = try await call(client, .head, Endpoints.health.path)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            let metrics = try await call(client, .get, Endpoints.metrics.path)
            #expect(String(buffer: metrics.body).contains("# TYPE stellwerk_http_requests_total counter"))
            #expect(String(buffer: metrics.body).contains(#"route="/health""#))
            let document = try await call(client, .get, Endpoints.openAPI.path)
            #expect(Data(document.body.readableBytesView) == (try OpenAPIDocument.json()))
            let authority = try await call(client, .get, Endpoints.authority.path)
            #expect(String(buffer: authority.body).hasPrefix("-----BEGIN CERTIFICATE-----"))
        }
    }

    @Test func operators_areCreatedWithRoles_andEachRoleMayWhatItMay() async throws {
        try await withServer { client, admin, _ in
            let whoami = try decode(CallerView.self, try await call(client, .get, Endpoints.whoami.path, token: admin))
            #expect(whoami == CallerView(name: "admin", roles: ["*": .admin]))

            let created = try await call(
                client, .post, Endpoints.createUser.path, token: admin,
                json: #"{"name": "vera", "roles": {"sandbox": "viewer"}}"#)
            #expect(created.status == .created)
            let vera = try decode(IssuedToken.self, created).token
            #expect(vera.hasPrefix("swo_"))

            // A role that does not exist is refused with the roles that do.
            let unknownRole = try await call(
                client, .post, Endpoints.createUser.path, token: admin,
                json: #"{"name": "otto", "roles": {"sandbox": "superuser"}}"#)
            #expect(unknownRole.status == .badRequest)
            #expect(
                try error(unknownRole).message.contains(
                    "'superuser' is not a role; known: viewer, operator, approver, admin"))

            // A viewer reads its environment, but neither deploys nor administers.
            let status = try await call(client, .get, Endpoints.status.path, token: vera)
            #expect(status.status == .ok)
            let token = try await call(
                client, .post, Endpoints.createJoinToken.path, token: vera,
                json: #"{"environment": "sandbox", "site": "kusel", "node": "kus-1", "ttlSeconds": 600}"#)
            #expect(token.status == .forbidden)
            let refusal = try error(token).message
            #expect(refusal == "vera is viewer in sandbox and may not administer anywhere", "\(refusal)")
            let rollback = try await call(client, .post, Endpoints.rollback.path(["env": "sandbox"]), token: vera)
            #expect(rollback.status == .forbidden)
            #expect(try error(rollback).message == "vera is viewer in sandbox and may not deploy there")
            let elsewhere = try await call(client, .get, Endpoints.snapshot.path(["env": "live"]), token: vera)
            #expect(elsewhere.status == .forbidden)
            let users = try await call(client, .get, Endpoints.users.path, token: vera)
            #expect(users.status == .forbidden)

            // The admin may; a revoked token is refused from then on.
            let issued = try await call(
                client, .post, Endpoints.createJoinToken.path, token: admin,
                json: #"{"environment": "sandbox", "site": "kusel", "node": "kus-1", "ttlSeconds": 600}"#)
            #expect(issued.status == .created)
            let tokens = try decode(
                [JoinTokenView].self, try await call(client, .get, Endpoints.joinTokens.path, token: admin))
            #expect(tokens.map(\.node) == ["kus-1"])
            #expect(tokens.first?.used == false)
            let revoked = try await call(client, .delete, Endpoints.revokeUser.path(["name": "vera"]), token: admin)
            #expect(revoked.status == .noContent)
            let after = try await call(client, .get, Endpoints.whoami.path, token: vera)
            #expect(after.status == .unauthorized)
            #expect(try error(after).message == "the API token is not known or was revoked")
        }
    }

    @Test func badInput_getsAJSONErrorThatSaysWhatAndWhere() async throws {
        try await withServer { client, admin, _ in
            let name = try await call(
                client, .post, Endpoints.createJoinToken.path, token: admin,
                json: #"{"environment": "sandbox", "site": "../etc", "node": "n1", "ttlSeconds": 600}"#)
            #expect(name.status == .badRequest)
            #expect(try error(name).message == "site '../etc' must be a name of letters, digits, - _ .")
            let ttl = try await call(
                client, .post, Endpoints.createJoinToken.path, token: admin,
                json: #"{"environment": "sandbox", "site": "s", "node": "n1", "ttlSeconds": 99999999999999999999}"#)
            #expect(ttl.status == .badRequest, "a number too large for an Int is a bad request, not a crash")
            let missing = try await call(
                client, .post, Endpoints.createUser.path, token: admin, json: #"{"roles": {"*": "viewer"}}"#)
            #expect(missing.status == .badRequest)
            #expect(try error(missing).message.contains("missing key 'name'"))
            let notJSON = try await call(client, .post, Endpoints.startRollout.path, token: admin, json: "{plan")
            #expect(notJSON.status == .badRequest)
            #expect(try error(notJSON).code == .badRequest)
            let tooLarge = try await call(
                client, .post, Endpoints.join.path, json: String(repeating: " ", count: (1 << 20) + 1))
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try error(tooLarge).code == .tooLarge)
            let csr = try await call(
                client, .post, Endpoints.join.path, json: #"{"token": "swj_x", "certificateRequest": "not a CSR"}"#)
            #expect(csr.status == .badRequest)
            #expect(try error(csr).message == "certificateRequest is not a PEM certificate signing request")
            let limit = try await call(client, .get, Endpoints.audit.path + "?limit=many", token: admin)
            #expect(limit.status == .badRequest)
            #expect(try error(limit).message == "the query parameter limit must be a whole number")
            let unknown = try await call(client, .get, "/v1/nothing-here", token: admin)
            #expect(unknown.status == .notFound)
            #expect(try error(unknown).message == "there is no GET /v1/nothing-here")
            let artifact = try await call(client, .get, Endpoints.artifact.path(["sha256": "abc"]), token: admin)
            #expect(artifact.status == .badRequest)
            #expect(try error(artifact).message == "an artifact is named by its SHA-256: 64 hex digits")
        }
    }

    @Test func rolloutsAndPromotions_thatDoNotExist_orCannotChange_areSaidSo() async throws {
        try await withServer { client, admin, store in
            let missing = try await call(client, .get, Endpoints.rollout.path(["id": "ro-none"]), token: admin)
            #expect(missing.status == .notFound)
            #expect(try error(missing).message == "there is no rollout ro-none")
            let now = Date()
            try await store.createRollout(
                RolloutRecord(
                    id: "ro-done", environment: "sandbox", release: "r-1", serial: 1, state: .succeeded,
                    document:
                        #"{"settings": {"canary": 0, "maxInFlight": 1, "maxInFlightPercent": false, "minHealthySeconds": 0, "healthyDeadlineSeconds": 10, "progressDeadlineSeconds": 10, "autoRollback": true, "lostAfterSeconds": 30, "onDisconnected": "wait"}, "createdBy": "user:admin", "message": "every node runs release r-1", "steps": [], "lastProgressAt": "2026-12-01T10:00:00Z"}"#,
                    createdAt: now, updatedAt: now), targets: [], actor: "user:admin")
            let shown = try decode(
                RolloutView.self, try await call(client, .get, Endpoints.rollout.path(["id": "ro-done"]), token: admin))
            #expect(shown.state == .succeeded)
            let paused = try await call(client, .post, Endpoints.pauseRollout.path(["id": "ro-done"]), token: admin)
            #expect(paused.status == .conflict)
            #expect(try error(paused).message == "rollout ro-done is succeeded; it cannot pause now")
            let listed = try decode(
                [RolloutView].self, try await call(client, .get, Endpoints.rollouts.path + "?env=sandbox", token: admin)
            )
            #expect(listed.map(\.id) == ["ro-done"])
            let nothingEarlier = try await call(
                client, .post, Endpoints.rollback.path(["env": "sandbox"]), token: admin)
            #expect(nothingEarlier.status == .conflict)
            #expect(try error(nothingEarlier).message.contains("has no earlier release that was healthy everywhere"))
            let promotion = try await call(client, .get, Endpoints.promotion.path(["id": "pr-none"]), token: admin)
            #expect(promotion.status == .notFound)
            #expect(
                try decode([PromotionView].self, try await call(client, .get, Endpoints.promotions.path, token: admin))
                    .isEmpty)
        }
    }

    /// An environment's policy through the API: what a bad one is refused for, recording one without
    /// a promotion source at once, and a governed one only as a proposal a second person approves.
    @Test func policies_areValidated_recorded_andForLiveProposedForASecondApprover() async throws {
        try await withServer { client, admin, _ in
            let rollout = """
                "rollout": {"canary": 1, "maxInFlight": 2, "maxInFlightPercent": false, "minHealthySeconds": 5,
                  "healthyDeadlineSeconds": 60, "progressDeadlineSeconds": 300, "autoRollback": true,
                  "lostAfterSeconds": 60, "onDisconnected": "wait"}
                """
            let sandbox = "{\(rollout)}"
            let path = Endpoints.proposePolicy.path(["env": "sandbox"])
            let empty = try decode(
                PolicyView.self, try await call(client, .get, Endpoints.policy.path(["env": "sandbox"]), token: admin))
            #expect(empty.recorded == nil && empty.message == "no policy recorded yet")

            // Bad policies are refused whole, each problem named; nothing is recorded.
            let huge = sandbox.replacingOccurrences(of: #""maxInFlight": 2"#, with: #""maxInFlight": 0"#)
                .replacingOccurrences(of: #""lostAfterSeconds": 60"#, with: #""lostAfterSeconds": 9223372036854775807"#)
            let refused = try await call(client, .put, path, token: admin, json: huge)
            #expect(refused.status == .badRequest)
            let message = try error(refused).message
            #expect(message.contains("rollout.max_in_flight must be 1 to 10000"), "\(message)")
            #expect(message.contains("rollout.lost_after must be between 0 s and 366 days"), "\(message)")
            let selfSource = try await call(
                client, .put, path, token: admin,
                json: """
                    {\(rollout), "promotion": {"source": "sandbox", "soakSeconds": 0, "approvals": 11,
                      "respectWindows": true, "maxSitesInFlight": 1,
                      "windows": {"a": [{"days": [8], "from": 0, "to": 60}]}}}
                    """)
            #expect(selfSource.status == .badRequest)
            let problems = try error(selfSource).message
            #expect(problems.contains("the promotion source must name another environment"), "\(problems)")
            #expect(problems.contains("promotion.approvals must be 0 to 10"), "\(problems)")
            #expect(problems.contains("a maintenance window of a has days outside 1–7"), "\(problems)")
            let notJSON = try await call(client, .put, path, token: admin, json: "{rollout")
            #expect(notJSON.status == .badRequest)
            #expect(
                try decode(
                    PolicyView.self,
                    try await call(client, .get, Endpoints.policy.path(["env": "sandbox"]), token: admin)
                ).recorded == nil)

            // Without a promotion source: recorded at once; the same again changes nothing.
            let recorded = try decode(PolicyView.self, try await call(client, .put, path, token: admin, json: sandbox))
            #expect(recorded.message == "recorded")
            #expect(recorded.recorded?.recordedBy == "admin")
            #expect(recorded.recorded?.digest.count == 64)
            let again = try decode(PolicyView.self, try await call(client, .put, path, token: admin, json: sandbox))
            #expect(again.message.hasPrefix("unchanged"))

            // With one: a proposal, which its proposer cannot approve, nor anyone with another digest.
            let live = Endpoints.proposePolicy.path(["env": "live"])
            let governed = """
                {\(rollout), "promotion": {"source": "sandbox", "soakSeconds": 86400, "approvals": 1,
                  "respectWindows": true, "canarySite": "a", "maxSitesInFlight": 2,
                  "windows": {"a": [{"days": [2, 6], "from": 1260, "to": 1410}]}}}
                """
            let proposed = try decode(PolicyView.self, try await call(client, .put, live, token: admin, json: governed))
            let proposal = try #require(proposed.proposal)
            #expect(proposed.recorded == nil)
            #expect(proposal.differences == ["the first policy of this environment, promoted into from sandbox"])
            let approve = Endpoints.approvePolicy.path(["env": "live"])
            let own = try await call(client, .post, approve, token: admin, json: #"{"digest": "\#(proposal.digest)"}"#)
            #expect(own.status == .conflict)
            #expect(try error(own).message == "admin proposed the policy change of live and cannot also approve it")
            let nothing = try await call(
                client, .post, Endpoints.approvePolicy.path(["env": "sandbox"]), token: admin,
                json: #"{"digest": "\#(proposal.digest)"}"#)
            #expect(nothing.status == .notFound)
            #expect(try error(nothing).message == "no policy change of sandbox waits for approval")

            // Removing a node: `force` is true or false, and an unknown node is not found.
            let node = Endpoints.removeNode.path(["env": "sandbox", "node": "kus-1"])
            let maybe = try await call(client, .delete, node + "?force=maybe", token: admin)
            #expect(maybe.status == .badRequest)
            #expect(try error(maybe).message == "the query parameter force must be true or false")
            let unknown = try await call(client, .delete, node + "?force=true", token: admin)
            #expect(unknown.status == .notFound)
            #expect(try error(unknown).message == "there is no node kus-1 in sandbox")
        }
    }

    @Test func locksAndTheAuditLog_areReadAndBrokenThroughTheAPI_byAdminsOnly() async throws {
        try await withServer { client, admin, store in
            _ = try await store.acquireLease("rollout-engine", holder: "server-a", for: 3600)
            let locks = try decode([LockView].self, try await call(client, .get, Endpoints.locks.path, token: admin))
            #expect(locks.map(\.name) == ["rollout-engine"])
            #expect(locks.first?.holder == "server-a")

            let created = try await call(
                client, .post, Endpoints.createUser.path, token: admin,
                json: #"{"name": "otto", "roles": {"*": "operator"}}"#)
            let otto = try decode(IssuedToken.self, created).token
            let refused = try await call(
                client, .delete, Endpoints.breakLock.path(["name": "rollout-engine"]), token: otto)
            #expect(refused.status == .forbidden)
            let broken = try await call(
                client, .delete, Endpoints.breakLock.path(["name": "rollout-engine"]), token: admin)
            #expect(broken.status == .noContent)
            #expect(try await store.leases().isEmpty)
            let again = try await call(
                client, .delete, Endpoints.breakLock.path(["name": "rollout-engine"]), token: admin)
            #expect(again.status == .notFound)

            let audit = try decode(
                [AuditEntryView].self, try await call(client, .get, Endpoints.audit.path + "?limit=10", token: admin))
            // Otto's refusal is audited too.
            #expect(audit.map(\.action).suffix(3) == ["user.create", "request.refuse", "lock.break"])
            #expect(
                audit.dropLast().last.map { "\($0.actor) \($0.object) \($0.detail.prefix(4))" }
                    == "user:otto DELETE /v1/locks/rollout-engine 403:")
            #expect(audit.last?.actor == "user:admin")
            let verified = try decode(
                AuditVerificationView.self, try await call(client, .get, Endpoints.verifyAudit.path, token: admin))
            #expect(verified.problems.isEmpty)
            #expect(verified.entries == audit.count)
        }
    }
}
