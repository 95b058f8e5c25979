import Foundation
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// Several servers on one PostgreSQL store are one orchestrator (issue #23, first step): a second
/// server with a fresh data folder takes the CA and the release-signing key from the store, so an
/// agent that joined through the first is trusted by the second and trusts it; a server without the
/// store's key-encryption key, or with a CA of its own, is refused at its start.
@Suite(.serialized) struct SharedIdentityEndToEndTests {
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: PostgresServer.shouldRun || required, "needs PostgreSQL (the postgresql package)"))
    func aSecondServer_onTheStore_isTheSameOrchestrator() async throws {
        try #require(PostgresServer.shouldRun, "PostgreSQL is not installed")
        let store = try await PostgresServer.shared().createDatabase()
        let cluster = try LocalCluster(block: 71, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        cluster.store = store
        defer { cluster.tearDown() }
        try await cluster.start()
        let first = cluster.root.appendingPathComponent("server")
        let keyFile = first.appendingPathComponent("secrets.key")

        // B, with a fresh data folder and the same key file: the same CA and signing key.
        let started = try #require(
            try await cluster.startAnotherServer(data: "server-b", store: store, keyFile: keyFile))
        let folder = cluster.root.appendingPathComponent("server-b")
        for file in ["ca/ca.pem", "ca/ca.key", "signing.key"] {
            #expect(
                try Data(contentsOf: folder.appendingPathComponent(file))
                    == Data(contentsOf: first.appendingPathComponent(file)), "\(file)")
        }
        let keyMode =
            try FileManager.default.attributesOfItem(
                atPath: folder.appendingPathComponent("ca/ca.key").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let authority = try String(contentsOf: cluster.authorityFile, encoding: .utf8)
        let b = "https://127.0.0.1:\(started.port)"
        // An operator who trusts the first server's CA reaches B, and B signs releases as A does.
        let operatorOnB = try OrchestratorConnection(url: b, authority: authority, token: cluster.adminToken)
        let onA = try OrchestratorConnection(url: cluster.serverURL, authority: authority, token: cluster.adminToken)
        let keyOnB = try await operatorOnB.send(.signingKey)
        #expect(keyOnB == (try await onA.send(.signingKey)))
        // The agent that joined through A: B accepts its certificate, and it trusts B's.
        let identity = cluster.data(of: "n1").appendingPathComponent("identity")
        let agentOnB = try OrchestratorConnection(
            url: b, authority: try String(contentsOf: identity.appendingPathComponent("ca.pem"), encoding: .utf8),
            clientCertificate: (
                try String(contentsOf: identity.appendingPathComponent("node.pem"), encoding: .utf8),
                try String(contentsOf: identity.appendingPathComponent("node.key"), encoding: .utf8)
            ))
        let polled = try await agentOnB.exchange(.get, "/v1/agent/desired-state?wait=1")
        #expect([200, 204].contains(polled.status), "\(polled.status) \(polled.text)")
        await operatorOnB.shutdown()
        await onA.shutdown()
        await agentOnB.shutdown()

        // Without the store's key-encryption key: refused, saying which file to give.
        #expect(try await cluster.startAnotherServer(data: "server-c", store: store, keyFile: nil) == nil)
        let refused = try String(contentsOf: cluster.root.appendingPathComponent("server-c.log"), encoding: .utf8)
        #expect(refused.contains("start every server of one store with the same --secrets-key file"), "\(refused)")
        // A data folder with a CA of another orchestrator is refused, and keeps its CA.
        let other = try await PostgresServer.shared().createDatabase()
        let elsewhere = try #require(
            try await cluster.startAnotherServer(data: "server-d", store: other, keyFile: keyFile))
        cluster.endServer(elsewhere.pid, signal: SIGTERM)
        let ownCA = try Data(contentsOf: cluster.root.appendingPathComponent("server-d/ca/ca.pem"))
        try FileManager.default.removeItem(at: cluster.root.appendingPathComponent("server-d.port"))
        #expect(try await cluster.startAnotherServer(data: "server-d", store: store, keyFile: keyFile) == nil)
        let mixed = try String(contentsOf: cluster.root.appendingPathComponent("server-d.log"), encoding: .utf8)
        #expect(mixed.contains("holds a CA and signing key of another orchestrator"), "\(mixed)")
        #expect(try Data(contentsOf: cluster.root.appendingPathComponent("server-d/ca/ca.pem")) == ownCA)
    }
}
