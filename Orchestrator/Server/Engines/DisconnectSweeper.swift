import Foundation
import Logging
import ServiceLifecycle
import StellwerkAPI
import Store

/// Marks nodes that went silent as disconnected and says so on the event stream; every server runs
/// one (marking is idempotent).
struct DisconnectSweeper: Service {
    let store: StateStore
    let hub: EventHub
    let lostAfter: TimeInterval
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                do {
                    try await sweep()
                } catch {
                    logger.warning("marking silent nodes disconnected: \(error)")
                }
            }
        }
    }

    func sweep(now: Date = Date()) async throws {
        for environment in Set(try await store.nodes().map(\.environment)) {
            let lost = try await store.markDisconnected(
                environment: environment, notSeenSince: now.addingTimeInterval(-lostAfter))
            for node in lost {
                hub.publish(
                    .nodeDisconnected, environment: environment, object: node,
                    detail: "not seen for \(Int(lostAfter)) s")
            }
        }
    }
}
