import Foundation
import Identity
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// Several servers on one PostgreSQL store (issue #23): an artifact one server took in is handed out
/// by another, Range requests included; agents are told of every server without a new desired
/// state; and an agent whose server is killed goes on with another, keeping its identity.
@Suite(.serialized) struct MultiServerEndToEndTests {
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: PostgresServer.shouldRun || required, "needs PostgreSQL (the postgresql package)"))
    func aNodeWhoseServerIsKilled_goesOnWithAnother_thatHandsOutWhatTheFirstTookIn() async throws {
        try #require(PostgresServer.shouldRun, "PostgreSQL is not installed")
        let store = try await PostgresServer.shared().createDatabase()
        let cluster = try LocalCluster(block: 72, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        cluster.store = store
        defer { cluster.tearDown() }
        try await cluster.start()
        let first = try await cluster.release(version: "1")
        #expect(try await cluster.stellwerk(["apply", "--env", "e2e", "--release", first]).status == 0)
        try await cluster.waitFor("n1 to run release 1", seconds: 90) {
            try await cluster.status().environments.first?.nodes.first?.instances.first.map {
                $0.release == first && $0.state == .running
            } ?? false
        }
        // Taken in by the first server only.
        let second = try await cluster.release(version: "2")
        let b = try #require(
            try await cluster.startAnotherServer(
                data: "server-b", store: store,
                keyFile: cluster.root.appendingPathComponent("server/secrets.key")))
        let urlOfB = "https://127.0.0.1:\(b.port)"

        // The agent hears of B while it waits for a desired state that does not come.
        let settingsFile = cluster.data(of: "n1").appendingPathComponent("identity/orchestrator.json")
        try await cluster.waitFor("n1 to be told of the second server", seconds: 60) {
            let settings = try WireJSON.decoder().decode(
                OrchestratorSettings.self, from: try Data(contentsOf: settingsFile))
            return settings.urls == [cluster.serverURL, urlOfB] || settings.urls == [urlOfB, cluster.serverURL]
        }

        // B hands out the artifact A took in, in parts as asked.
        let onB = try cluster.adminConnection(url: urlOfB)
        let manifest = try await onB.send(.release(second))
        let sha = try #require(manifest.manifest.components["stellwerk-test-service"]?.sha256)
        let tar = try Data(contentsOf: cluster.root.appendingPathComponent("release-2.tar"))
        let head = try await onB.exchange(.head, "/v1/artifacts/\(sha)")
        #expect(head.status == 200, "\(head.status) \(head.text)")
        #expect(head.headers.first { $0.name.lowercased() == "content-length" }?.value == String(tar.count))
        let middle = try await onB.exchange(.get, "/v1/artifacts/\(sha)", headers: [("Range", "bytes=1000-1999")])
        #expect(middle.status == 206 && middle.body == tar[1000..<2000])
        let tail = try await onB.exchange(.get, "/v1/artifacts/\(sha)", headers: [("Range", "bytes=-100")])
        #expect(tail.status == 206 && tail.body == tar.suffix(100))
        await onB.shutdown()
        // B keeps its copy, checked against its digest.
        let copy = cluster.root.appendingPathComponent("server-b/artifacts/\(sha)")
        #expect(try Data(contentsOf: copy) == tar)

        // A dies without a word; release 2 is applied through B, and n1, still the node it joined as,
        // fetches it from B.
        let certificate = try Data(contentsOf: cluster.data(of: "n1").appendingPathComponent("identity/node.pem"))
        let urlOfA = cluster.serverURL
        cluster.stopServer(signal: SIGKILL)
        cluster.switchToServer(pid: b.pid, port: b.port)
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", second])
        #expect(applied.status == 0, "\(applied.standardOutput)\n\(applied.standardError)")
        try await cluster.waitFor("n1 to run release 2 through the second server", seconds: 120) {
            try await cluster.status().environments.first?.nodes.first?.instances.first.map {
                $0.release == second && $0.state == .running
            } ?? false
        }
        let log = try String(contentsOf: cluster.root.appendingPathComponent("n1.log"), encoding: .utf8)
        #expect(log.contains("the orchestrator server at \(urlOfA) failed"), "\(log)")
        #expect(log.contains("going on with \(urlOfB)"), "\(log)")
        #expect(try Data(contentsOf: cluster.data(of: "n1").appendingPathComponent("identity/node.pem")) == certificate)
    }

    /// The rollout engine runs on one server at a time, under a lease. Killing the leader in the
    /// middle of one wave and then the next leader in the middle of the next, the third server
    /// finishes the rollout: every wave's desired state written exactly once, none skipped.
    @Test(.enabled(if: PostgresServer.shouldRun || required, "needs PostgreSQL (the postgresql package)"))
    func theLeaderKilledInTwoWavesOfARollout_theRolloutEndsOnceOnTheThirdServer() async throws {
        try #require(PostgresServer.shouldRun, "PostgreSQL is not installed")
        let store = try await PostgresServer.shared().createDatabase()
        // One node per wave, each healthy for 6 s before the next starts: time to kill a leader mid-wave.
        let policy = LocalCluster.rolloutPolicy(canary: 1, maxInFlight: 1)
            .replacingOccurrences(of: "min_healthy_time: 1s", with: "min_healthy_time: 6s")
        let cluster = try LocalCluster(block: 73, environments: ["e2e": policy])
        cluster.store = store
        defer { cluster.tearDown() }
        try await cluster.start()
        let keyFile = cluster.root.appendingPathComponent("server/secrets.key")
        var servers: [String: (pid: pid_t, port: Int)] = [
            try Self.serverID(cluster, "server"): (cluster.serverPID, Self.port(of: cluster.serverURL))
        ]
        for data in ["server-b", "server-c"] {
            let started = try #require(
                try await cluster.startAnotherServer(data: data, store: store, keyFile: keyFile))
            servers[try Self.serverID(cluster, data)] = started
        }
        // Every agent knows all three before the first server it joined through may die.
        for node in ["n1", "n2", "n3"] {
            let file = cluster.data(of: node).appendingPathComponent("identity/orchestrator.json")
            try await cluster.waitFor("\(node) to be told of three servers", seconds: 60) {
                try WireJSON.decoder().decode(OrchestratorSettings.self, from: try Data(contentsOf: file)).urls?
                    .count == 3
            }
        }
        let release = try await cluster.release(version: "1")
        let started = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release, "--detach", "--json"])
        #expect(started.status == 0, "\(started.standardError)")
        let id = try decode(RolloutView.self, started.standardOutput).id

        var killed: [String] = []
        for wave in [0, 1] {
            try await cluster.waitFor("wave \(wave + 1) to be under way", seconds: 120) {
                let view = try await Self.rollout(id, on: cluster)
                return [.installing, .health].contains(view.steps.first { $0.wave == wave }?.state)
            }
            let admin = try cluster.adminConnection()
            let leader = try await admin.send(.locks).first { $0.name == "rollout-engine" }?.holder
            await admin.shutdown()
            let chosen = try #require(leader.flatMap { servers.removeValue(forKey: $0) }, "leader \(leader ?? "none")")
            let wasTheClusters = chosen.pid == cluster.serverPID
            cluster.endServer(chosen.pid)
            killed.append(leader ?? "")
            if wasTheClusters, let next = servers.values.first {
                cluster.switchToServer(pid: next.pid, port: next.port)
            }
        }
        #expect(killed.count == 2 && Set(killed).count == 2, "\(killed)")

        let followed = try await cluster.stellwerk(["rollout", "show", id, "--follow", "--json"])
        let view = try decode(RolloutView.self, followed.standardOutput)
        #expect(view.state == .succeeded, "\(view.message)")
        #expect(view.steps.map(\.state) == [.done, .done, .done], "\(view.steps)")
        let status = try await cluster.status()
        #expect(
            status.environments.first?.nodes.map { $0.instances.map(\.release) } == [[release], [release], [release]])
        let admin = try cluster.adminConnection()
        let audit = try await admin.send(.audit(limit: 1000))
        let locks = try await admin.send(.locks)
        await admin.shutdown()
        // One write per wave: a leader that took over went on from the wave it found, not from the start.
        let writes = audit.filter { $0.action == "desired-state.write" && $0.actor == "rollout:\(id)" }
        #expect(writes.count == 3, "\(writes.map(\.detail))")
        #expect(locks.first { $0.name == "rollout-engine" }?.holder == servers.keys.first)
    }

    /// PostgreSQL stopped at once under two servers in the middle of a rollout, then started again:
    /// both servers (the same processes) reconnect, the rollout ends, each wave written once, and
    /// the audit log is whole.
    @Test(.enabled(if: PostgresServer.shouldRun || required, "needs PostgreSQL (the postgresql package)"))
    func postgresRestartedUnderTwoServersMidRollout_bothReconnect_andTheRolloutEndsOnce() async throws {
        try #require(PostgresServer.shouldRun, "PostgreSQL is not installed")
        let postgres = try await PostgresServer.dedicated()
        let store = try await postgres.createDatabase()
        let policy = LocalCluster.rolloutPolicy(canary: 1, maxInFlight: 1)
            .replacingOccurrences(of: "min_healthy_time: 1s", with: "min_healthy_time: 6s")
        let cluster = try LocalCluster(
            block: 74, nodes: [LocalCluster.Node(name: "n1", site: "a"), LocalCluster.Node(name: "n2", site: "a")],
            environments: ["e2e": policy])
        cluster.store = store
        defer { cluster.tearDown() }
        try await cluster.start()
        let b = try #require(
            try await cluster.startAnotherServer(
                data: "server-b", store: store, keyFile: cluster.root.appendingPathComponent("server/secrets.key")))
        let first = cluster.serverPID
        let release = try await cluster.release(version: "1")
        let started = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release, "--detach", "--json"])
        #expect(started.status == 0, "\(started.standardError)")
        let id = try decode(RolloutView.self, started.standardOutput).id
        try await cluster.waitFor("the canary to be under way", seconds: 90) {
            [.installing, .health].contains(try await Self.rollout(id, on: cluster).steps.first?.state)
        }

        try await postgres.stop()
        let onA = try cluster.adminConnection()
        let onB = try cluster.adminConnection(url: "https://127.0.0.1:\(b.port)")
        try await cluster.waitFor("both servers to report the store gone", seconds: 30) {
            let a = try? await onA.exchange(.get, "/health").status
            let b = try? await onB.exchange(.get, "/health").status
            return a != 200 && b != 200
        }
        try await postgres.start()
        try await cluster.waitFor("both servers to answer 200 again", seconds: 60) {
            let a = try? await onA.exchange(.get, "/health").status
            let b = try? await onB.exchange(.get, "/health").status
            return a == 200 && b == 200
        }
        await onA.shutdown()
        await onB.shutdown()
        #expect(kill(first, 0) == 0 && kill(b.pid, 0) == 0, "the same server processes")

        let followed = try await cluster.stellwerk(["rollout", "show", id, "--follow", "--json"])
        let view = try decode(RolloutView.self, followed.standardOutput)
        #expect(view.state == .succeeded, "\(view.message)")
        #expect(view.steps.map(\.state) == [.done, .done], "\(view.steps)")
        let status = try await cluster.status()
        #expect(status.environments.first?.nodes.map { $0.instances.map(\.release) } == [[release], [release]])
        let admin = try cluster.adminConnection()
        let audit = try await admin.send(.audit(limit: 1000))
        await admin.shutdown()
        let writes = audit.filter { $0.action == "desired-state.write" && $0.actor == "rollout:\(id)" }
        #expect(writes.count == 2, "\(writes.map(\.detail))")
        let verified = try await cluster.stellwerk(["audit", "verify"])
        #expect(verified.status == 0, "\(verified.standardOutput)\n\(verified.standardError)")
    }

    static func serverID(_ cluster: LocalCluster, _ data: String) throws -> String {
        try String(contentsOf: cluster.root.appendingPathComponent("\(data)/server-id"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func port(of url: String) -> Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    static func rollout(_ id: String, on cluster: LocalCluster) async throws -> RolloutView {
        let admin = try cluster.adminConnection()
        defer { Task { await admin.shutdown() } }
        return try await admin.send(.rollout(id))
    }
}
