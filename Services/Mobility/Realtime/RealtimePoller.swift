import Foundation
import HTTPTransport
import Logging
import NIOSSL
import ServiceLifecycle
import Telemetry

/// Fetches every configured GTFS-Realtime source once per interval and hands what came to
/// `RealtimeFeeds`. A source that fails is asked again at the next interval; its last good data
/// stays until it is stale.
struct RealtimePoller: Service {
    let feeds: RealtimeFeeds
    let interval: Duration
    let logger: Logger
    /// Fetches by outcome, for `/metrics`.
    let counts: Counters
    /// The largest body taken from a source.
    static let bodyLimit = 32 << 20

    func run() async throws {
        let http = HTTPExchange(tls: try? NIOSSLContext(configuration: .makeClientConfiguration()))
        var failures: [String: Int] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                for url in feeds.sources {
                    group.addTask { await fetch(url, with: http) }
                }
            }
            for status in feeds.statuses(at: Date()) {
                // Said once when a source starts failing, and every tenth time after.
                if let error = status.lastError, status.attemptedAt != status.fetchedAt {
                    let count = (failures[status.url] ?? 0) + 1
                    failures[status.url] = count
                    if count == 1 || count.isMultiple(of: 10) { logger.warning("realtime: \(status.url): \(error)") }
                } else {
                    failures[status.url] = nil
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    private func fetch(_ url: String, with http: HTTPExchange) async {
        do {
            let answer = try await http.fetch(url, timeout: .seconds(15), limit: Self.bodyLimit)
            guard answer.status == 200 else {
                counts.add(["failed"])
                feeds.failed(url, "HTTP \(answer.status)", at: Date())
                return
            }
            try feeds.accept(answer.body, from: url, at: Date())
            counts.add(["ok"])
        } catch is RealtimeFeeds.Refusal {
            // Recorded with the source, where /api/realtime and the log show it.
            counts.add(["refused"])
        } catch {
            counts.add(["failed"])
            feeds.failed(url, "\(error)", at: Date())
        }
    }
}
