import Foundation
package import StellwerkAPI
import Synchronization

/// Everything that happens, for `/v1/events` subscribers, and a change counter per environment that
/// long-polling agents watch instead of asking the store every second.
package final class EventHub: Sendable {
    private struct State {
        var sequence = 0
        var recent: [ServerEvent] = []
        var subscribers: [UUID: AsyncStream<ServerEvent>.Continuation] = [:]
        var generations: [String: Int] = [:]
    }
    private let state = Mutex(State())
    private let keep = 1_000

    package init() {}

    package func publish(_ type: String, environment: String, object: String, detail: String) {
        state.withLock { state in
            state.sequence += 1
            let event = ServerEvent(
                sequence: state.sequence, type: type, environment: environment, object: object, detail: detail,
                at: Date())
            state.recent.append(event)
            if state.recent.count > keep { state.recent.removeFirst(state.recent.count - keep) }
            for continuation in state.subscribers.values { continuation.yield(event) }
        }
    }

    /// Past events after `sequence` (as many as are kept), then live ones.
    package func subscribe(after sequence: Int?) -> AsyncStream<ServerEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ServerEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        state.withLock { state in
            if let sequence {
                for event in state.recent where event.sequence > sequence { continuation.yield(event) }
            }
            state.subscribers[id] = continuation
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Notes that desired state changed in `environment`.
    package func desiredStateChanged(in environment: String) {
        state.withLock { $0.generations[environment, default: 0] += 1 }
    }

    package func generation(of environment: String) -> Int {
        state.withLock { $0.generations[environment] ?? 0 }
    }

    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}
