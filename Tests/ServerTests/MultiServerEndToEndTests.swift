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
        var other: pid_t = 0
        defer {
            // Stopped by tearDown once it is the cluster's server.
            if other > 0, other != cluster.serverPID {
                kill(other, SIGTERM)
                waitpid(other, nil, 0)
            }
            cluster.tearDown()
        }
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
        other = b.pid
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
}
