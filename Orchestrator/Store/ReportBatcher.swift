import Database
import Dispatch
import Foundation
import Synchronization

/// Writes agents' reports in batches: reports that arrive while one transaction runs are written
/// together in the next, so thousands of agents cost a few transactions a second, not thousands.
///
/// Each caller still waits until its own report is committed (or the batch failed).
final class ReportBatcher: Sendable {
    /// A report ready to write, with the caller waiting for it.
    struct Entry: Sendable {
        var environment: String
        var node: String
        var document: String
        /// Whether every instance in the report runs; when not, the node's `unhealthy_at` moves.
        var healthy: Bool
        /// Each instance's state (`portal=running,sensors=unhealthy`): a change is a line of the
        /// node's health history.
        var health: String
        var at: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State: ~Copyable {
        var pending: [Entry] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let pool: ConnectionPool
    private let queue = DispatchQueue(label: "stellwerk.store.reports")
    /// Most reports written in one transaction; keeps a transaction short under a flood.
    private let maxBatch: Int
    /// How long the writer waits for more reports before it writes a small batch. Agents report every
    /// few seconds, so a few milliseconds more are nothing to them, and at 1,000 reports a second they
    /// turn one transaction and one thread wake-up per report into one per ten.
    private let linger: Duration

    init(pool: ConnectionPool, maxBatch: Int = 500, linger: Duration = .milliseconds(10)) {
        self.pool = pool
        self.maxBatch = maxBatch
        self.linger = linger
    }

    /// The most lines of health history kept per node; older ones are deleted as new ones come.
    static let historyLimit = 200

    func submit(
        environment: String, node: String, document: String, healthy: Bool, health: String, at: Int
    ) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let entry = Entry(
                environment: environment, node: node, document: document, healthy: healthy, health: health, at: at,
                continuation: continuation)
            let startDrain = state.withLock { state -> Bool in
                state.pending.append(entry)
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain { queue.async { self.drain() } }
        }
    }

    private func drain() {
        if linger > .zero, state.withLock({ $0.pending.count }) < maxBatch {
            let (seconds, attoseconds) = linger.components
            Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
        }
        while true {
            let batch = state.withLock { state -> [Entry] in
                let taken = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            do {
                try pool.withConnectionBlocking { connection in
                    try connection.transaction { try Self.write(batch, on: connection) }
                }
                for entry in batch { entry.continuation.resume() }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
    }

    private static func write(_ batch: [Entry], on connection: any SQLConnection) throws {
        for entry in batch {
            let at = SQLValue.integer(Int64(entry.at))
            let (environment, node, health) = (
                SQLValue.text(entry.environment), SQLValue.text(entry.node), SQLValue.text(entry.health)
            )
            // A line of history only when the states differ from the last report's: one indexed
            // look-up per report, a write only on a change.
            let changed = try connection.query(
                "SELECT 1 FROM node_reports WHERE environment = $1 AND node = $2 AND health = $3", environment, node,
                health
            ).isEmpty
            if changed {
                try connection.run(
                    "INSERT INTO health_history (environment, node, at, health) VALUES ($1, $2, $3, $4)", environment,
                    node, at, health)
                try connection.run(
                    """
                    DELETE FROM health_history WHERE environment = $1 AND node = $2 AND at < (
                        SELECT at FROM health_history WHERE environment = $1 AND node = $2
                        ORDER BY at DESC LIMIT 1 OFFSET \(Self.historyLimit - 1))
                    """, environment, node)
            }
            try connection.run(
                """
                INSERT INTO node_reports (environment, node, reported_at, document, unhealthy_at, health)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (environment, node) DO UPDATE SET reported_at = excluded.reported_at,
                    document = excluded.document, health = excluded.health,
                    unhealthy_at = COALESCE(excluded.unhealthy_at, node_reports.unhealthy_at)
                """, environment, node, at, .text(entry.document), entry.healthy ? .null : at, health)
            // A node back from silence vouches for nothing it did meanwhile: a soak starts over.
            try connection.run(
                """
                UPDATE node_reports SET unhealthy_at = $3 WHERE environment = $1 AND node = $2
                    AND EXISTS (SELECT 1 FROM nodes WHERE environment = $1 AND name = $2 AND connection = 'disconnected')
                """, .text(entry.environment), .text(entry.node), at)
            try connection.run(
                "UPDATE nodes SET last_seen = $3, connection = 'connected' WHERE environment = $1 AND name = $2",
                .text(entry.environment), .text(entry.node), at)
        }
    }
}
