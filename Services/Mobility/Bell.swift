import ServiceLifecycle
import Synchronization

/// A bell one task waits on and others ring (an import, a source's new data). A ring while nobody
/// waits is kept for the next wait. (An AsyncStream would not do: once a wait on it is cancelled by
/// its timeout, the stream is finished, and every later wait returns at once.)
package final class Bell: Sendable {
    private struct State {
        var rung = false
        var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var nextID = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether a task waits for the bell now.
    package var isAwaited: Bool { state.withLock { $0.waiter != nil } }

    package func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns once the bell rings (at once when it rang since the last wait), or when the waiting
    /// task is cancelled.
    package func next() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return true
                    }
                    state.waiter = (id, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume()
        }
    }
}

/// Waits `duration`, or until `bell` rings, whichever comes first; returns early on a graceful
/// shutdown too.
package func wait(_ duration: Duration, orUntil bell: Bell) async {
    await cancelWhenGracefulShutdown {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await bell.next() }
            await group.next()
            group.cancelAll()
        }
    }
}
