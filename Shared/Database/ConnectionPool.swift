import Dispatch
import Synchronization

/// A few connections, each used by one thread at a time, with blocking database calls run on
/// Dispatch threads so they never hold up Swift's cooperative pool or NIO's event loops.
package final class ConnectionPool: Sendable {
    private struct State: ~Copyable {
        var idle: [Handle] = []
        /// The writing connection while nobody uses it.
        var writer: Handle?
        var closed = false
    }

    /// Moves a connection between threads; only the thread that checked it out touches it.
    private final class Handle: @unchecked Sendable {
        let connection: any SQLConnection
        init(_ connection: any SQLConnection) { self.connection = connection }
    }

    private let state = Mutex(State())
    private let available: DispatchSemaphore
    /// Taken for the writing connection; nil when the pool has none and writes share the others.
    private let writerAvailable: DispatchSemaphore?
    private let queue = DispatchQueue(label: "stellwerk.store", attributes: .concurrent)
    package let dialect: SQLDialect

    /// Takes ownership of `connections`, which must all be of one dialect, and of `writer`, a
    /// connection kept for `withWriter`.
    ///
    /// SQLite empties a connection's page cache whenever another connection wrote since that one's
    /// last transaction. Writes that take turns over several connections therefore read the
    /// B-tree pages of a large table from the file again for every row (about 20 reads for one
    /// observation among 10 million); writes that all go through one connection find them cached.
    package init(_ connections: [any SQLConnection], writer: (any SQLConnection)? = nil) {
        precondition(!connections.isEmpty, "a pool needs at least one connection")
        dialect = connections[0].dialect
        available = DispatchSemaphore(value: connections.count)
        writerAvailable = writer.map { _ in DispatchSemaphore(value: 1) }
        let handles = connections.map(Handle.init)
        state.withLock {
            $0.idle = handles
            $0.writer = writer.map(Handle.init)
        }
    }

    /// Runs `body` with a connection of its own, off the cooperative thread pool.
    package func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await offThePool { try self.withConnectionBlocking(body) }
    }

    /// Runs `body` with the connection kept for writes (see `init`), or with any connection when
    /// the pool keeps none; off the cooperative thread pool.
    package func withWriter<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await offThePool { try self.withWriterBlocking(body) }
    }

    private func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// The blocking form, for callers that are on a thread of their own already.
    package func withConnectionBlocking<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        available.wait()
        defer { available.signal() }
        return try use(
            checkOut: { $0.idle.popLast() }, checkIn: { state, handle in state.idle.append(handle) }, body)
    }

    /// The blocking form of `withWriter`.
    package func withWriterBlocking<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        guard let writerAvailable else { return try withConnectionBlocking(body) }
        writerAvailable.wait()
        defer { writerAvailable.signal() }
        return try use(checkOut: { $0.writer.take() }, checkIn: { state, handle in state.writer = handle }, body)
    }

    private func use<T>(
        checkOut: (inout State) -> Handle?, checkIn: (inout State, Handle) -> Void,
        _ body: (any SQLConnection) throws -> T
    ) throws -> T {
        guard let handle = state.withLock({ state -> Handle? in state.closed ? nil : checkOut(&state) }) else {
            throw DatabaseError(.unavailable, "the store is closed")
        }
        defer {
            // A pool closed meanwhile takes no connections back: close this one instead.
            let closed = state.withLock { state -> Bool in
                if !state.closed { checkIn(&state, handle) }
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
            defer {
                state.idle.removeAll()
                state.writer = nil
            }
            return state.idle + (state.writer.map { [$0] } ?? [])
        }
        for handle in handles { handle.connection.close() }
    }
}
