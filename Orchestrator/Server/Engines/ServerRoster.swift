import Foundation
import Logging
import ServiceLifecycle
import StellwerkAPI
import Store
import Synchronization

/// The servers of one store, as agents are told of them: every server says every few seconds that it
/// is alive and at which address agents reach it, and hands each agent the addresses of all that
/// did lately (its own first), so an agent whose server goes away goes on with another.
///
/// On a shared store it also watches the environments' serials, so an agent long-polling this
/// server hears at once of a desired state written through another.
final class ServerRoster: Service, Sendable {
    private struct State {
        var ownURL: String?
        var urls: [String] = []
        var serials: [String: Int]?
        var announcedAt: ContinuousClock.Instant?
    }
    let store: StateStore
    let hub: EventHub
    let serverID: String
    let logger: Logger
    /// How often a server says it is alive; one not heard of for three times as long is left out.
    let interval: Duration
    private let state = Mutex(State())

    init(store: StateStore, hub: EventHub, serverID: String, logger: Logger, interval: Duration = .seconds(5)) {
        self.store = store
        self.hub = hub
        self.serverID = serverID
        self.logger = logger
        self.interval = interval
    }

    /// The addresses agents are given, this server's first; empty before it listens, and for a store
    /// of one server only (its agents know its address).
    var urls: [String] { state.withLock { $0.urls } }

    /// Called once the server listens: from then on it is announced under `url`.
    func listening(at url: String) {
        guard store.isShared else { return }
        state.withLock { state in
            state.ownURL = url
            if state.urls.isEmpty { state.urls = [url] }
        }
    }

    func run() async throws {
        // A single-file store has one server: nobody to tell, and nothing to watch.
        guard store.isShared else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let due = self.state.withLock { state in
                        state.ownURL != nil && state.announcedAt.map { .now - $0 >= self.interval } ?? true
                    }
                    if due { try await self.announce() }
                    try await self.watchSerials()
                } catch {
                    self.logger.warning("telling the other servers of the store about this one: \(error)")
                }
                do { try await Task.sleep(for: .seconds(1)) } catch { break }
            }
        }
        // Stopped on purpose: agents are told of the others only, from the next answer on.
        try? await store.withdrawServer(serverID)
    }

    private func announce(now: Date = Date()) async throws {
        guard let own = state.withLock({ $0.ownURL }) else { return }
        try await store.announceServer(serverID, url: own, at: now)
        let seconds = Double(interval.components.seconds) * 3
        let others = try await store.servers(seenSince: now.addingTimeInterval(-max(seconds, 3)))
            .filter { $0.id != serverID }.map(\.url)
        var urls = [own]
        for url in others where !urls.contains(url) { urls.append(url) }
        let changed = state.withLock { state in
            defer {
                state.urls = urls
                state.announcedAt = .now
            }
            return state.urls != urls
        }
        // Agents waiting for their desired state hear of the new list now, not at their next poll.
        if changed { hub.wakeEveryWaiter() }
    }

    private func watchSerials() async throws {
        let now = try await store.serials()
        let before = state.withLock { state in
            defer { state.serials = now }
            return state.serials
        }
        guard let before else { return }
        for (environment, serial) in now where before[environment] != serial {
            // Only the long-polls of the nodes written are woken. When a serial left no row (a batch
            // that only removed states) or the serial went back (a restored store), which nodes changed
            // is not known, and every long-poll of the environment looks again. A removal written in
            // the same batch as other states reaches its agent here at the long-poll's next look (10 s).
            guard let seen = before[environment], seen < serial else {
                hub.desiredStateChanged(in: environment)
                continue
            }
            let written = try await store.desiredStateWrites(environment: environment, after: seen)
            if Set(written.map(\.serial)).count < serial - seen {
                hub.desiredStateChanged(in: environment)
            } else {
                hub.desiredStateChanged(in: environment, nodes: Set(written.map(\.node)))
            }
        }
    }
}
