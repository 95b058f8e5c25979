/// Waits until `condition` holds, asking again every `interval`, and fails with what was awaited
/// when it does not within `limit`: tests wait for what they need, never a fixed time.
package func waitUntil(
    _ what: String, within limit: Duration = .seconds(30), every interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestServerError("timed out waiting until \(what)") }
        try await Task.sleep(for: interval)
    }
}
