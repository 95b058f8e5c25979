import Foundation
package import StellwerkAPI
import Synchronization

/// Wakes the engines the moment something they wait for happens, so a wave is advanced when the
/// report that completes it arrives, not at the next tick: a rollout or promotion changed (always),
/// or a node reported (only an engine with work in flight listens; an idle one would spin on
/// heartbeats). Deadlines still come from the engines' tick.
package final class EngineSignal: Sendable {
    private struct State {
        var changes = 0
        var reports = 0
        var waiters: [UUID: (reports: Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
    }
    private let state = Mutex(State())

    package init() {}

    /// What a waiter has seen: the counts of changes and of reports.
    package struct Seen: Sendable {
        fileprivate var changes: Int
        fileprivate var reports: Int
    }

    package var seen: Seen { state.withLock { Seen(changes: $0.changes, reports: $0.reports) } }

    /// Wakes the engines for `kind`, if it is something they wait for.
    package func signal(_ kind: EventKind) {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            switch kind {
            case .rollout, .promotion, .nodeDisconnected, .nodeRemoved:
                state.changes += 1
                defer { state.waiters = [:] }
                return state.waiters.values.map(\.continuation)
            case .nodeReport:
                state.reports += 1
                let listening = state.waiters.filter(\.value.reports)
                for id in listening.keys { state.waiters.removeValue(forKey: id) }
                return listening.values.map(\.continuation)
            default:
                return []
            }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once something happened since `seen` (reports only when `reports`), or after `timeout`.
    package func wait(after seen: Seen, reports: Bool, timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let now = self.state.withLock { state -> Bool in
                            if state.changes != seen.changes || (reports && state.reports != seen.reports)
                                || Task.isCancelled
                            {
                                return true
                            }
                            state.waiters[id] = (reports, continuation)
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
