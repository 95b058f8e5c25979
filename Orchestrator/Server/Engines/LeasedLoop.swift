import Foundation
import Logging
import ServiceLifecycle
import Store

/// An engine of the server as a service of its group: its pass repeated every `tick` — and at once
/// when `wake` says something it waits for happened — while this server holds the lease `name`,
/// until the server shuts down gracefully. Then the pass in progress
/// finishes, the loop ends and the lease is released, so another server takes over at once instead of
/// after the lease's expiry. Several servers on one store never run the same engine at once.
struct LeasedLoop: Service {
    let name: String
    let holder: String
    let store: StateStore
    let logger: Logger
    let tick: Duration
    /// How long a lease lasts unless renewed; renewed at every pass. Another server takes over this long
    /// (and a tick) after the holder died: the failover time.
    var leaseSeconds = 10
    var wake: EngineSignal?
    /// One pass; true while work is in flight (then node reports wake the loop too).
    let pass: @Sendable () async throws -> Bool

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let seen = wake?.seen
                var busy = false
                do {
                    if try await store.acquireLease(name, holder: holder, for: TimeInterval(leaseSeconds)) != nil {
                        busy = try await pass()
                    }
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("\(name): \(error)")
                }
                if let wake, let seen {
                    // Reports come in floods (every node's heartbeat): at most one pass for them every
                    // 50 ms, which still ends a wave within a blink of its last report.
                    if busy { try? await Task.sleep(for: .milliseconds(50)) }
                    await wake.wait(after: seen, reports: busy, timeout: tick)
                    if Task.isCancelled { break }
                } else {
                    do { try await Task.sleep(for: tick) } catch { break }
                }
            }
        }
        _ = try? await store.releaseLease(name, holder: holder)
    }
}
