import Foundation
import OrchestratorClient
import StellwerkAPI
import Synchronization

/// What a follower (`apply`, `rollout show --follow`, `promote --follow`) waits on between looks: the
/// server's event stream says when something it follows changed, and when the stream is not there
/// (an older server, a proxy that buffers, a broken connection) a look every half second does.
final class ServerChanges: Sendable {
    private let bell = Bell()
    private let reader: Task<Void, Never>

    /// Listens to `environment`'s events; `matters` picks the ones worth another look.
    init(server: OrchestratorConnection, environment: String, matters: @escaping @Sendable (ServerEvent) -> Bool) {
        let bell = bell
        reader = Task {
            try? await server.followEvents(
                environment: environment,
                subscribed: {
                    // Anything from before the server listened is seen by the look this rings for.
                    bell.ring(streaming: true)
                },
                receive: { event in
                    if matters(event) { bell.ring() }
                    return !Task.isCancelled
                })
            bell.ring(streaming: false)
        }
    }

    deinit { reader.cancel() }

    /// Ends listening.
    func stop() { reader.cancel() }

    /// Returns when something changed since the last return, or after half a second without an event
    /// stream (five with one, to keep elapsed times fresh).
    func next() async { await bell.wait() }

    private final class Bell: Sendable {
        private struct State {
            var rung = false
            var streaming = false
            var waiter: CheckedContinuation<Void, Never>?
        }
        private let state = Mutex(State())

        func ring(streaming: Bool? = nil) {
            // A waiting look takes the ring at once; else the next look does.
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let streaming { state.streaming = streaming }
                guard let waiter = state.waiter else {
                    state.rung = true
                    return nil
                }
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }

        func wait() async {
            let streaming = state.withLock { $0.streaming }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withTaskCancellationHandler {
                        await withCheckedContinuation { continuation in
                            let now = self.state.withLock { state -> Bool in
                                if state.rung || Task.isCancelled {
                                    state.rung = false
                                    return true
                                }
                                state.waiter = continuation
                                return false
                            }
                            if now { continuation.resume() }
                        }
                    } onCancel: {
                        self.state.withLock { state in
                            defer { state.waiter = nil }
                            return state.waiter
                        }?.resume()
                    }
                }
                group.addTask { try? await Task.sleep(for: streaming ? .seconds(5) : .milliseconds(500)) }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
