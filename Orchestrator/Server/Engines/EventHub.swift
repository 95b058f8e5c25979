import Foundation
package import StellwerkAPI
import Synchronization

/// Everything that happens, for `/v1/events` subscribers, and the wake-up of long-polling agents the
/// moment their environment's desired state changes.
package final class EventHub: Sendable {
    private struct State {
        var sequence = 0
        var recent: [ServerEvent] = []
        var subscribers: [UUID: AsyncStream<ServerEvent>.Continuation] = [:]
        /// Waiting long-polls by environment and node.
        var waiters: [String: [String: [ObjectIdentifier: DesiredStateWaiter]]] = [:]
        var closed = false
    }
    private let state = Mutex(State())
    private let keep = 1_000
    /// Wakes the rollout and promotion engines on the events they wait for.
    package let engines = EngineSignal()

    package init() {}

    package func publish(_ kind: EventKind, environment: String, object: String, detail: String) {
        state.withLock { state in
            state.sequence += 1
            let event = ServerEvent(
                sequence: state.sequence, type: kind, environment: environment, object: object, detail: detail,
                at: Date())
            state.recent.append(event)
            if state.recent.count > keep { state.recent.removeFirst(state.recent.count - keep) }
            for continuation in state.subscribers.values { continuation.yield(event) }
        }
        engines.signal(kind)
    }

    /// Past events after `sequence` (as many as are kept), then live ones.
    package func subscribe(after sequence: Int?) -> AsyncStream<ServerEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ServerEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        state.withLock { state in
            if let sequence {
                for event in state.recent where event.sequence > sequence { continuation.yield(event) }
            }
            if state.closed {
                continuation.finish()
            } else {
                state.subscribers[id] = continuation
            }
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Whether ``close()`` was called: the server is stopping.
    package var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends every event stream and every agent's long-poll, now and from now on: the server is
    /// stopping, and its graceful shutdown waits for open requests — a stream for as long as no event
    /// comes, a long-poll up to a minute, even after the agent has gone.
    package func close() {
        let (streams, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.subscribers = [:]
                state.waiters = [:]
            }
            return (Array(state.subscribers.values), state.waiters.values.flatMap(\.values).flatMap(\.values))
        }
        for continuation in streams { continuation.finish() }
        for waiter in waiters { waiter.wake() }
    }

    // MARK: Desired-state changes

    /// Says that desired state changed in `environment`: the agents of `nodes` waiting there look
    /// again, or every agent of the environment when `nodes` is nil (what changed is not known). A wave
    /// of 500 nodes wakes 500 long-polls, not the 10,000 of the environment.
    package func desiredStateChanged(in environment: String, nodes: Set<String>? = nil) {
        let woken = state.withLock { state -> [DesiredStateWaiter] in
            guard let nodes else {
                return (state.waiters.removeValue(forKey: environment) ?? [:]).values.flatMap(\.values)
            }
            var woken: [DesiredStateWaiter] = []
            for node in nodes {
                if let waiting = state.waiters[environment]?.removeValue(forKey: node) { woken += waiting.values }
            }
            return woken
        }
        for waiter in woken { waiter.wake() }
    }

    /// The nodes of `environment` whose agents wait for a change now.
    package func waitingNodes(in environment: String) -> Set<String> {
        state.withLock { Set(($0.waiters[environment] ?? [:]).keys) }
    }

    /// Wakes every waiting agent, whatever its environment: the list of servers they are given changed.
    package func wakeEveryWaiter() {
        let woken = state.withLock { state in
            defer { state.waiters = [:] }
            return state.waiters.values.flatMap(\.values).flatMap(\.values)
        }
        for waiter in woken { waiter.wake() }
    }

    /// Waits until desired state changes for `node` in `environment` (or the whole environment's) or
    /// `timeout` passes, whichever comes first.
    ///
    /// `prepare` runs after the wait is registered and before it starts: a change that happens while
    /// it reads the store wakes the wait at once instead of being missed. When `prepare` returns an
    /// answer, there is no wait.
    package func waitForChange<Answer: Sendable>(
        in environment: String, node: String, timeout: Duration, prepare: () async throws -> Answer?
    ) async throws -> Answer? {
        let waiter = DesiredStateWaiter()
        let closed = state.withLock { state in
            if !state.closed {
                state.waiters[environment, default: [:]][node, default: [:]][ObjectIdentifier(waiter)] = waiter
            }
            return state.closed
        }
        defer {
            state.withLock { state in
                state.waiters[environment]?[node]?.removeValue(forKey: ObjectIdentifier(waiter))
                if state.waiters[environment]?[node]?.isEmpty == true { state.waiters[environment]?[node] = nil }
            }
            waiter.wake()
        }
        if let answer = try await prepare() { return answer }
        if closed { return nil }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await waiter.wait() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            waiter.wake()
            group.cancelAll()
        }
        return nil
    }
}

/// One long-poll waiting for a change; woken once, by a change, its timeout, or its end.
final class DesiredStateWaiter: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Void, Never>?, woken: Bool)>((nil, false))

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.woken { return true }
                state.continuation = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    func wake() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.woken else { return nil }
            state.woken = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
