import Dispatch
import Synchronization

/// A few connections, each used by one thread at a time, with blocking database calls run on
/// Dispatch threads so they never hold up Swift's cooperative pool or NIO's event loops.
package final class ConnectionPool: Sendable {
    private struct State: ~Copyable {
        var idle: [Handle] = []
        var closed = false
    }

    /// Moves a connection between threads; only the thread that checked it out touches it.
    private final class Handle: @unchecked Sendable {
        let connection: any SQLConnection
        init(_ connection: any SQLConnection) { self.connection = connection }
    }

    private let state = Mutex(State())
    private let available: DispatchSemaphore
    private let queue = DispatchQueue(label: "stellwerk.store", attributes: .concurrent)
    package let dialect: SQLDialect

    /// Takes ownership of `connections`, which must all be of one dialect.
    package init(_ connections: [any SQLConnection]) {
        precondition(!connections.isEmpty, "a pool needs at least one connection")
        dialect = connections[0].dialect
        available = DispatchSemaphore(value: connections.count)
        let handles = connections.map(Handle.init)
        state.withLock { $0.idle = handles }
    }

    /// Runs `body` with a connection of its own, off the cooperative thread pool.
    package func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.withConnectionBlocking(body) })
            }
        }
    }

    /// The blocking form, for callers that are on a thread of their own already.
    package func withConnectionBlocking<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        available.wait()
        defer { available.signal() }
        guard let handle = state.withLock({ state -> Handle? in state.closed ? nil : state.idle.popLast() }) else {
            throw DatabaseError(.unavailable, "the store is closed")
        }
        defer {
            // A pool closed meanwhile takes no connections back: close this one instead.
            let closed = state.withLock { state -> Bool in
                if !state.closed { state.idle.append(handle) }
                return state.closed
            }
            if closed { handle.connection.close() }
        }
        try handle.connection.restoreIfBroken()
        return try body(handle.connection)
    }

    /// Closes every connection; later calls fail with "the store is closed".
    package func close() {
        let handles = state.withLock { state -> [Handle] in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for handle in handles { handle.connection.close() }
    }
}
