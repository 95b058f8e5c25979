import Testing

@testable import Server

/// Which agents' long-polls a change of desired state wakes.
@Suite struct EventHubTests {
    @Test(.timeLimit(.minutes(1)))
    func desiredStateChanged_forSomeNodes_wakesOnlyTheirLongPolls() async throws {
        let hub = EventHub()
        let (registered, note) = AsyncStream<String>.makeStream()
        func poll(_ node: String) -> Task<Int?, any Error> {
            Task {
                try await hub.waitForChange(in: "sandbox", node: node, timeout: .seconds(600)) { () async -> Int? in
                    note.yield(node)
                    return nil
                }
            }
        }
        let first = poll("n1")
        let second = poll("n2")
        var waiting = registered.makeAsyncIterator()
        _ = await waiting.next()
        _ = await waiting.next()
        #expect(hub.waitingNodes(in: "sandbox") == ["n1", "n2"])

        // A wave that wrote n2 (and a node with no agent waiting) wakes n2 alone.
        hub.desiredStateChanged(in: "sandbox", nodes: ["n2", "n9"])
        _ = try await second.value
        #expect(hub.waitingNodes(in: "sandbox") == ["n1"])
        // Another environment's change wakes nobody here.
        hub.desiredStateChanged(in: "live")
        #expect(hub.waitingNodes(in: "sandbox") == ["n1"])
        // A change whose nodes are not known wakes every agent of the environment.
        hub.desiredStateChanged(in: "sandbox")
        _ = try await first.value
        #expect(hub.waitingNodes(in: "sandbox").isEmpty)
    }
}
