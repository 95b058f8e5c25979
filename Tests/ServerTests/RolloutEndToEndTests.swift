import Foundation
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// One server and three agents as separate processes on loopback, driven with the CLI as an operator
/// would.
@Suite(.serialized) struct RolloutEndToEndTests {
    @Test func freshDeploy_thenUpdateWithCanary_thenFailingCanaryRollsBack() async throws {
        let cluster = try LocalCluster(block: 31)
        defer { cluster.tearDown() }
        try await cluster.start()

        // Fresh deploy: canary first, then the other two.
        let first = try await cluster.release(version: "1")
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", first])
        #expect(applied.status == 0, "\(applied.standardOutput)\n\(applied.standardError)")
        #expect(applied.standardOutput.contains("succeeded"))
        var status = try await cluster.status()
        let nodes = try #require(status.environments.first?.nodes)
        #expect(nodes.map(\.node) == ["n1", "n2", "n3"])
        for node in nodes {
            #expect(node.connection == .connected)
            #expect(node.instances.map(\.release) == [first])
            #expect(node.instances.map(\.state) == [.running])
        }
        let plain = try cluster.adminConnection(url: "http://\(cluster.addresses["n3"]!):\(cluster.servicePort)")
        #expect(try await plain.exchange(.get, "/health").status == 200)
        await plain.shutdown()

        // The agent's data is nobody else's to read: its key, journal, desired state and reports.
        let data = cluster.data(of: "n1")
        for (path, mode) in [
            ("", 0o700), ("identity", 0o700), ("identity/node.key", 0o600), ("identity/orchestrator.json", 0o600),
            ("agent.sqlite", 0o600), ("agent.sqlite-wal", 0o600), ("desired.json", 0o600), ("report.json", 0o600),
        ] {
            let attributes = try FileManager.default.attributesOfItem(
                atPath: data.appendingPathComponent(path).path)
            #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == mode, "\(path)")
        }

        let rollouts = try await cluster.stellwerk(["rollout", "list", "--env", "e2e", "--json"])
        let views = try decode([RolloutView].self, rollouts.standardOutput)
        #expect(views.first?.steps.map(\.wave) == [0, 1, 1])

        // A healthy update goes through the canary to everyone.
        let second = try await cluster.release(version: "2")
        #expect(second != first)
        let updated = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", second, "--json"])
        #expect(updated.status == 0, "\(updated.standardError)")
        #expect(try decode(RolloutView.self, updated.standardOutput).state == .succeeded)
        status = try await cluster.status()
        #expect(status.environments.first?.nodes.flatMap { $0.instances.map(\.release) } == [second, second, second])

        // A release whose health check fails: the canary fails, nobody else is touched, and the canary
        // is rolled back to the previous release.
        let broken = try await cluster.release(version: "3-broken", healthStatus: 500)
        let failing = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", broken, "--json"])
        #expect(failing.status == 1)
        let view = try decode(RolloutView.self, failing.standardOutput)
        #expect(view.state == .rolledBack, "\(view.message)")
        #expect(view.message.contains("canary failed on n1"))
        #expect(
            view.steps.map(\.state) == [.rolledBack, .notStarted, .notStarted], "\(view.steps.map(\.detail))")
        status = try await cluster.status()
        for node in try #require(status.environments.first?.nodes) {
            #expect(node.instances.map(\.release) == [second], "\(node.node)")
            #expect(node.instances.map(\.state) == [.running], "\(node.node)")
        }

        // `stellwerk rollback` goes to the last release that was healthy everywhere: after the failed
        // rollout that is the one that runs, so nothing changes; asked again, it goes one further back.
        let stay = try await cluster.stellwerk(["rollback", "--env", "e2e"])
        #expect(stay.status == 0, "\(stay.standardOutput)\(stay.standardError)")
        #expect(stay.standardOutput.contains("nothing to change"), "\(stay.standardOutput)")
        let back = try await cluster.stellwerk(["rollback", "--env", "e2e"])
        #expect(back.status == 0, "\(back.standardOutput)\(back.standardError)")
        status = try await cluster.status()
        #expect(status.environments.first?.nodes.flatMap { $0.instances.map(\.release) } == [first, first, first])
    }

    @Test func serverKilledMidRollout_resumesAfterRestart_andAnAgentKilledMidRolloutConverges() async throws {
        let cluster = try LocalCluster(block: 32)
        defer { cluster.tearDown() }
        try await cluster.start()
        let release = try await cluster.release(version: "1")
        let started = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release, "--detach", "--json"])
        #expect(started.status == 0, "\(started.standardError)")
        let id = try decode(RolloutView.self, started.standardOutput).id

        // Kill the agent of a later node and the server while the canary runs.
        cluster.stopAgent("n3", signal: SIGKILL)
        try await cluster.waitFor("the canary to start") {
            let shown = try await cluster.stellwerk(["rollout", "show", id, "--json"])
            return (try? decode(RolloutView.self, shown.standardOutput))?.steps.first?.state != .waiting
        }
        cluster.stopServer(signal: SIGKILL)
        try cluster.startAgent("n3")
        try await cluster.startServer()

        let followed = try await cluster.stellwerk(["rollout", "show", id, "--follow", "--json"])
        let view = try decode(RolloutView.self, followed.standardOutput)
        #expect(view.state == .succeeded, "\(view.message)")
        let status = try await cluster.status()
        #expect(
            status.environments.first?.nodes.flatMap { $0.instances.map(\.release) } == [release, release, release])
        // Resumed, not restarted: each node's desired state was written once by the rollout.
        let admin = try cluster.adminConnection()
        let audit = try await admin.send(.audit(limit: 1000))
        await admin.shutdown()
        let writes = audit.filter { $0.action == "desired-state.write" && $0.actor == "rollout:\(id)" }
        #expect(writes.count == 2, "\(writes.map(\.detail))")
    }

    @Test func refusals_replayedToken_foreignNode_viewer_andBadRequests() async throws {
        let cluster = try LocalCluster(block: 33)
        defer { cluster.tearDown() }
        try await cluster.startServer()
        let tokenFile = try await cluster.join("n1", site: "a")

        // The same token again, for a fresh data folder: refused, and audited.
        let replay = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "join", cluster.serverURL, "--token-file", tokenFile, "--ca-fingerprint", cluster.fingerprint, "--data",
                cluster.root.appendingPathComponent("intruder").path,
            ])
        #expect(replay.status != 0)
        #expect(replay.standardError.contains("the join token was used already"), "\(replay.standardError)")

        // A token the server never issued: refused.
        let unknownToken = cluster.root.appendingPathComponent("unknown.token")
        try Data("swj_not-a-token".utf8).write(to: unknownToken)
        let stranger = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "join", cluster.serverURL, "--token-file", unknownToken.path, "--ca-fingerprint", cluster.fingerprint,
                "--data", cluster.root.appendingPathComponent("stranger").path,
            ])
        #expect(stranger.status != 0)
        #expect(stranger.standardError.contains("the join token is not known"), "\(stranger.standardError)")
        #expect(
            !FileManager.default.fileExists(
                atPath: cluster.root.appendingPathComponent("stranger/identity/node.key").path))

        // A wrong CA fingerprint: the agent does not even send its token.
        let pinned = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "join", cluster.serverURL, "--token", "whatever", "--ca-fingerprint",
                String(repeating: "ab", count: 32),
                "--data", cluster.root.appendingPathComponent("pinned").path,
            ])
        #expect(pinned.status != 0)
        #expect(pinned.standardError.contains("refusing to trust it"))

        // n1's certificate cannot report for n2.
        let agent = try cluster.agentConnection("n1")
        let foreign = try await agent.exchange(
            .post, Endpoints.report.path,
            body: try JSONEncoder().encode(NodeReport(node: "n2", environment: "e2e", desiredSerial: 0, instances: [])))
        #expect(foreign.status == 403)
        #expect(String(decoding: foreign.body, as: UTF8.self).contains("belongs to n1"))
        let own = try await agent.exchange(
            .post, Endpoints.report.path,
            body: try JSONEncoder().encode(NodeReport(node: "n1", environment: "e2e", desiredSerial: 0, instances: [])))
        #expect(own.status == 204)
        await agent.shutdown()

        // Agent routes without a client certificate.
        let admin = try cluster.adminConnection()
        let anonymous = try await admin.exchange(.get, "/v1/agent/desired-state")
        #expect(anonymous.status == 401)
        #expect(try errorCode(anonymous.body) == .unauthorized)

        // A viewer may look but not deploy.
        let created = try await cluster.stellwerk(["user", "create", "vera", "--role", "e2e=viewer"])
        #expect(created.status == 0, "\(created.standardError)")
        let viewer = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let looked = try await cluster.stellwerk(["status", "--env", "e2e"], token: viewer)
        #expect(looked.status == 0, "\(looked.standardError)")
        let refused = try await cluster.stellwerk(["rollback", "--env", "e2e"], token: viewer)
        #expect(refused.status == 1)
        #expect(
            refused.standardError.contains("vera is viewer in e2e and may not deploy there"), "\(refused.standardError)"
        )

        // Malformed, oversized and unknown requests: clear 4xx with a JSON error, and the server lives on.
        let malformed = try await admin.exchange(.post, "/v1/rollouts", body: Data("{\"plan\": ".utf8))
        #expect(malformed.status == 400)
        #expect(try errorCode(malformed.body) == .badRequest)
        let oversized = try await admin.exchange(.post, "/v1/join", body: Data(repeating: 0x20, count: 3 << 20))
        #expect(oversized.status == 413)
        #expect(try errorCode(oversized.body) == .tooLarge)
        let unknown = try await admin.exchange(.get, "/v1/nothing-here")
        #expect(unknown.status == 404)
        let badToken = try await admin.exchange(
            .post, "/v1/join", body: Data(#"{"token": "nope", "certificateRequest": "x"}"#.utf8))
        #expect(badToken.status == 400)
        let health = try await admin.exchange(.get, "/health")
        #expect(health.status == 200)
        let metrics = try await admin.exchange(.get, "/metrics")
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("stellwerk_http_requests_total"))
        let openAPI = try await admin.exchange(.get, "/openapi.json")
        let documented = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/api/openapi.json"), encoding: .utf8)
        #expect(String(decoding: openAPI.body, as: UTF8.self) == documented)
        await admin.shutdown()

        let audit = try await cluster.stellwerk([
            "audit", "list", "--store", "sqlite:\(cluster.root.path)/server/state.sqlite",
        ])
        #expect(audit.standardOutput.contains("request.refuse"), "\(audit.standardOutput)")
        #expect(audit.standardOutput.contains("403: the join token was used already"), "\(audit.standardOutput)")
        #expect(audit.standardOutput.contains("user:vera"), "\(audit.standardOutput)")
    }

    @Test func artifactDownload_resumesWithRangeRequests() async throws {
        let cluster = try LocalCluster(block: 34)
        defer { cluster.tearDown() }
        try await cluster.startServer()
        _ = try await cluster.join("n1", site: "a")
        let release = try await cluster.release(version: "1")
        let admin = try cluster.adminConnection()
        let manifest = try await admin.send(.release(release))
        let sha = try #require(manifest.manifest.components["stellwerk-test-service"]?.sha256)
        let whole = try await admin.exchange(.get, "/v1/artifacts/\(sha)")
        #expect(whole.status == 200)
        let part = try await admin.exchange(.get, "/v1/artifacts/\(sha)", headers: [("Range", "bytes=100-199")])
        #expect(part.status == 206)
        #expect(part.body == whole.body.subdata(in: 100..<200))
        let beyond = try await admin.exchange(
            .get, "/v1/artifacts/\(sha)", headers: [("Range", "bytes=\(whole.body.count)-")])
        #expect(beyond.status == 416)

        // The agent's download: a partial file from an interrupted run is completed, not restarted.
        let agent = try cluster.agentConnection("n1")
        let target = cluster.root.appendingPathComponent("cache/\(sha).tar")
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try whole.body.prefix(1000).write(to: URL(fileURLWithPath: target.path + ".partial"))
        try await agent.download(sha256: sha, to: target)
        #expect(try Data(contentsOf: target) == whole.body)
        // A corrupted partial file is caught by the digest check and thrown away.
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: target.path + ".partial"))
        await #expect(throws: ClientError.self) { try await agent.download(sha256: sha, to: target) }
        #expect(!FileManager.default.fileExists(atPath: target.path + ".partial"))
        await agent.shutdown()
        await admin.shutdown()
    }
}

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(T.self, from: Data(text.utf8))
}

func errorCode(_ body: Data) throws -> ErrorCode {
    try WireJSON.decoder().decode(ErrorBody.self, from: body).error.code
}

extension RolloutEndToEndTests {
    /// A blueprint whose artifact is not pinned: `release create --artifact web=FILE` makes it the
    /// release's `external:web`, the plan takes its digest from the release, and the agents fetch it
    /// from the orchestrator (issue #19).
    @Test func unpinnedArtifact_isCarriedByTheRelease_andRuns() async throws {
        let cluster = try LocalCluster(
            block: 56, nodes: [LocalCluster.Node(name: "n1", site: "a")],
            component: "artifact: {}\n  executable: stellwerk-test-service")
        defer { cluster.tearDown() }
        try await cluster.start()
        let release = try await cluster.release(version: "1", component: "web")
        let shown = try await cluster.stellwerk(["release", "show", release, "--json"])
        #expect(shown.standardOutput.contains("external:web"), "\(shown.standardOutput)")
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        let instances = try await cluster.status().environments.first?.nodes.first?.instances ?? []
        #expect(instances.map(\.state) == [.running], "\(instances)")
        #expect(instances.map(\.release) == [release])
    }
}
