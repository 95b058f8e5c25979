import Foundation
import Logging
import ServiceLifecycle
import StellwerkAPI
import Store

/// Drives the nodes that cannot call out (`transport: ssh`): their desired state is pushed over SSH
/// the moment it is written, again every second while a rollout waits on the node (so its health
/// gates see it, as they see a pull node's reports), and every `interval` otherwise — each push
/// converges the node again, as a pull agent does, and tells whether it is in reach. Its report is
/// recorded as a pull agent's is: canaries, batches, health gates, rollbacks, status and events work
/// alike. A node out of reach is named on the event stream (`node.push-failed`) and shows
/// disconnected once its environment's `lost_after` passes. Pushes go only to nodes an admin
/// registered (`stellwerk node bootstrap`), with the registered settings.
///
/// One server pushes at a time (a lease), at most `atOnce` nodes at once.
struct PushDriver: Service {
    static let leaseName = "push"

    let store: StateStore
    let hub: EventHub
    let files: ServerFiles
    let secrets: SecretVault
    /// The orchestrator's SSH key; without one, a push node's push fails saying so.
    let key: URL?
    let holder: String
    let interval: Duration
    let logger: Logger
    var atOnce = 8

    func run() async throws {
        let book = PushBook()
        await cancelWhenGracefulShutdown {
            // Pushes in progress finish before the service ends: a session torn down by exit() may crash.
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let seen = hub.engines.seen
                    do {
                        if try await store.acquireLease(Self.leaseName, holder: holder, for: 15) != nil {
                            for (serial, state) in try await due(book) {
                                group.addTask { await push(state, serial: serial, book: book) }
                            }
                        }
                    } catch is CancellationError {
                        break
                    } catch {
                        logger.error("push: \(error)")
                    }
                    await hub.engines.wait(after: seen, reports: true, timeout: .seconds(1))
                }
            }
        }
        _ = try? await store.releaseLease(Self.leaseName, holder: holder)
    }

    /// The push nodes to push to now, marked as in flight.
    private func due(_ book: PushBook) async throws -> [(Int, NodeDesiredState)] {
        let states = try await store.pushedDesiredStates()
        guard !states.isEmpty else { return [] }
        var watched: Set<String> = []
        for record in try await store.activeRollouts() {
            guard let document = try? RolloutDocument.decode(record.document) else { continue }
            for step in document.steps where [.installing, .health, .rollingBack].contains(step.state) {
                watched.insert("\(record.environment)/\(step.node)")
            }
        }
        var chosen: [(Int, NodeDesiredState)] = []
        for (serial, state) in states {
            let key = "\(state.environment)/\(state.node)"
            if await book.take(key, serial: serial, watched: watched.contains(key), interval: interval, limit: atOnce) {
                chosen.append((serial, state))
            }
        }
        return chosen
    }

    private func push(_ state: NodeDesiredState, serial: Int, book: PushBook) async {
        let key = "\(state.environment)/\(state.node)"
        var failed = false
        do {
            // Only where and how an admin registered it, whatever the plan (an operator's) says: no
            // plan sends a node's secrets or the orchestrator's key to a host of its choosing, and a
            // node bootstrapped again (a new host key) is pushed to the new way at once.
            guard let target = try await store.pushTargets()[key] else {
                throw PushError(
                    "\(state.node) is not registered for pushes; an admin registers it with `stellwerk node bootstrap`")
            }
            if let problem = target.problem {
                throw PushError("the registered ssh settings cannot be used: \(problem)")
            }
            guard let sshKey = self.key else {
                throw PushError("this orchestrator has no SSH key; start it with --ssh-key FILE")
            }
            // Pushed only while this server leads; another that took over pushes from there.
            guard try await store.acquireLease(Self.leaseName, holder: holder, for: 15) != nil else { return }
            // A release taken in by another server of a shared store: its artifacts into this one's folder.
            let shelf = ArtifactShelf(store: store, files: files)
            for sha256 in Set(state.instances.compactMap(\.artifact.sha256)) where Hex.isSHA256(sha256) {
                _ = try await shelf.file(sha256)
            }
            let report = try await PushSession(
                state: state, serial: serial, target: target, key: sshKey, signingKey: try files.signingPublicKey,
                artifactFolder: files.artifactFolder, secrets: try await secrets.values(for: state)
            ).push()
            try await store.recordReport(report)
            hub.publish(
                .nodeReport, environment: state.environment, object: state.node,
                detail: report.instances.map { "\($0.spec.service) \($0.spec.release) \($0.state.rawValue)" }
                    .joined(separator: ", "))
        } catch {
            failed = true
            logger.warning("push to \(state.node) in \(state.environment): \(error)")
            hub.publish(.nodePushFailed, environment: state.environment, object: state.node, detail: "\(error)")
        }
        await book.finish(key, serial: serial, failed: failed)
    }
}

/// When each push node was last pushed to, at which serial, and which are being pushed to now.
actor PushBook {
    private struct Entry {
        var serial: Int
        var at: ContinuousClock.Instant
        var failed: Bool
    }

    private var entries: [String: Entry] = [:]
    private var inFlight: Set<String> = []

    /// Marks `key` in flight and says yes when it is due: a new serial at once (after a failure, the
    /// same one again after 5 s), a node a rollout waits on every second, any other every `interval`.
    func take(_ key: String, serial: Int, watched: Bool, interval: Duration, limit: Int) -> Bool {
        guard !inFlight.contains(key), inFlight.count < limit else { return false }
        let now = ContinuousClock.now
        let due: Bool
        if let entry = entries[key] {
            let since = now - entry.at
            if entry.serial != serial {
                due = true
            } else if entry.failed {
                due = since >= .seconds(5)
            } else {
                due = since >= (watched ? .seconds(1) : interval)
            }
        } else {
            due = true
        }
        if due { inFlight.insert(key) }
        return due
    }

    func finish(_ key: String, serial: Int, failed: Bool) {
        inFlight.remove(key)
        entries[key] = Entry(serial: serial, at: .now, failed: failed)
    }
}

/// Why a push could not even begin.
struct PushError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
