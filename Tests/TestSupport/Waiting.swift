package import Foundation

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

/// Runs `action` the moment the file at `path` holds more than `bytes`, from a thread of its own that
/// looks every millisecond: a transfer on loopback takes about a second, and a test's cooperative
/// threads, busy with the rest of the suite, may not look again before it ended. Fails with `what`
/// when the file does not grow so far within `limit`.
package func whenFile(
    _ path: String, growsBeyond bytes: Int, within limit: TimeInterval = 30, _ what: String,
    do action: @escaping @Sendable () -> Void
) async throws {
    let seen: Bool = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let deadline = Date().addingTimeInterval(limit)
            while Date() < deadline {
                let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
                if size > bytes {
                    action()
                    return continuation.resume(returning: true)
                }
                usleep(1_000)
            }
            continuation.resume(returning: false)
        }
    }
    guard seen else { throw TestServerError("timed out waiting until \(what)") }
}
