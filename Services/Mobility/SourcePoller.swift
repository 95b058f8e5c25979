import Foundation
import HTTPTransport
import Logging
import NIOSSL
import ServiceLifecycle
import Telemetry

/// Fetches every source of one kind (GTFS-Realtime, parking) once per interval and hands each body
/// to `accept`, which takes it or refuses it with its reason. A source that fails is asked again at
/// the next interval, and said in the log once when it starts failing and every tenth time after;
/// what it gave before stays with its taker until that is stale.
struct SourcePoller: Service {
    /// What the log calls these sources (`realtime`, `parking`).
    let name: String
    let sources: [String]
    let interval: Duration
    let logger: Logger
    /// Fetches by outcome (`ok`, `refused`, `failed`), for `/metrics`.
    let counts: Counters
    /// The largest body taken from a source.
    let bodyLimit: Int
    /// Takes a body fetched from a source at a time, or throws why not.
    let accept: @Sendable (Data, String, Date) throws -> Void
    /// Notes a fetch that failed before there was a body to take.
    let failed: @Sendable (String, String, Date) -> Void

    /// The pause after one of a source's first three failures in a row.
    static let firstRetry = Duration.seconds(5)

    func run() async throws {
        let http = HTTPExchange(tls: try? NIOSSLContext(configuration: .makeClientConfiguration()))
        var failures: [String: Int] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let outcomes = await withTaskGroup(of: (String, String?).self) { group in
                for url in sources {
                    group.addTask { (url, await fetch(url, with: http)) }
                }
                var outcomes: [(String, String?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            var soon = false
            for (url, problem) in outcomes {
                guard let problem else {
                    failures[url] = nil
                    continue
                }
                let count = (failures[url] ?? 0) + 1
                failures[url] = count
                if count == 1 || count.isMultiple(of: 10) { logger.warning("\(name): \(url): \(problem)") }
                // A source that fails at first (not up yet, as the service's own synthetic feeds while
                // it starts) is asked again within seconds, not a whole interval later.
                if count <= 3 { soon = true }
            }
            let pause = soon ? min(interval, Self.firstRetry) : interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    /// Fetches `url` and hands its body over; says what went wrong, or nil.
    private func fetch(_ url: String, with http: HTTPExchange) async -> String? {
        let answer: HTTPAnswer
        do {
            answer = try await http.fetch(url, timeout: .seconds(15), limit: bodyLimit)
        } catch {
            counts.add(["failed"])
            failed(url, "\(error)", Date())
            return "\(error)"
        }
        guard answer.status == 200 else {
            counts.add(["failed"])
            failed(url, "HTTP \(answer.status)", Date())
            return "HTTP \(answer.status)"
        }
        do {
            try accept(answer.body, url, Date())
            counts.add(["ok"])
            return nil
        } catch {
            // The taker records the refusal with the source, where the service's status shows it.
            counts.add(["refused"])
            return "\(error)"
        }
    }
}
