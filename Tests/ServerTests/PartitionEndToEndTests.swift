import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// A node cut off from the network in the middle of a rollout (issue #23). The server runs in a
/// network namespace of the test's own, the node in another, joined by a veth pair the test cuts
/// and mends; no packet leaves the machine, and nothing runs on loopback.
@Suite(.serialized) struct PartitionEndToEndTests {
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: NetworkNamespaces.available || required, "needs root and iproute2 for network namespaces"))
    func aNodeCutOffMidRollout_isDisconnected_andConvergesWhenTheLinkIsBack() async throws {
        let namespaces = try NetworkNamespaces(block: 75)
        defer { namespaces.remove() }
        // Silent for 5 s: disconnected; a step may wait 2 minutes for its node.
        let policy = LocalCluster.rolloutPolicy(healthyDeadline: "120s")
            .replacingOccurrences(of: "lost_after: 30s", with: "lost_after: 5s")
        let cluster = try LocalCluster(
            block: 75, nodes: [LocalCluster.Node(name: "n1", site: "a")], environments: ["e2e": policy],
            addresses: ["n1": namespaces.nodeAddress(1)])
        cluster.namespaces = namespaces
        cluster.serverArguments = ["--lost-after", "5"]
        defer { cluster.tearDown() }
        try await cluster.start()
        let first = try await cluster.release(version: "1")
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", first])
        #expect(applied.status == 0, "\(applied.standardOutput)\n\(applied.standardError)")
        let second = try await cluster.release(version: "2")

        // The link goes down: the node is disconnected, and its step of the next rollout waits for it.
        try namespaces.cut()
        try await cluster.waitFor("n1 to be seen as disconnected", seconds: 60) {
            try await cluster.status().environments.first?.nodes.first?.connection == .disconnected
        }
        let started = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", second, "--detach", "--json"])
        #expect(started.status == 0, "\(started.standardError)")
        let id = try decode(RolloutView.self, started.standardOutput).id
        let waiting = try await cluster.stellwerk(["rollout", "show", id, "--json"])
        let step = try #require(try decode(RolloutView.self, waiting.standardOutput).steps.first)
        #expect(step.detail == "disconnected; waiting for it to reconnect", "\(step)")
        let node = try #require(try await cluster.status().environments.first?.nodes.first)
        #expect(node.connection == .disconnected && node.instances.first?.release == first, "\(node)")

        // Mended: the node reconnects by itself, converges, and the rollout ends.
        try namespaces.mend()
        let followed = try await cluster.stellwerk(["rollout", "show", id, "--follow", "--json"])
        let view = try decode(RolloutView.self, followed.standardOutput)
        #expect(view.state == .succeeded, "\(view.message) \(view.steps)")
        let after = try #require(try await cluster.status().environments.first?.nodes.first)
        #expect(after.connection == .connected, "\(after)")
        #expect(after.instances.first?.release == second && after.instances.first?.state == .running, "\(after)")
    }
}
