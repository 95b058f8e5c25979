import Database
package import Foundation
import PostgresDatabase
import StellwerkAPI

/// Everything the orchestrator knows, in SQLite (embedded default) or PostgreSQL, behind one API.
///
/// Every operation is one transaction; every state-changing one appends to the hash-chained audit
/// log in the same transaction, so the log and the state cannot disagree.
///
/// ```swift
/// let store = try await StateStore.open(try StoreLocation(parsing: "sqlite:.stellwerk/state.sqlite"))
/// let serial = try await store.apply(plan, actor: "operator:anna")
/// ```
package final class StateStore: Sendable {
    package let location: StoreLocation
    let pool: ConnectionPool
    let reports: ReportBatcher

    init(location: StoreLocation, pool: ConnectionPool) {
        self.location = location
        self.pool = pool
        reports = ReportBatcher(pool: pool)
    }

    /// What opening a store does about its schema.
    package enum SchemaPolicy: Sendable {
        /// Migrate it forward to the version asked for: `stellwerk server` and `stellwerk store migrate`.
        case migrate
        /// Refuse a store at another version than this stellwerk's, and change nothing: every command
        /// that only reads or writes state.
        case requireCurrent
        /// Open it at whatever version it is (`stellwerk store info`, backups).
        case asIs
    }

    /// Opens the store at `location`; with `.migrate` its schema is brought forward to `schemaVersion`
    /// (default: the latest). With `create`, a missing SQLite file is created (never its folder).
    package static func open(
        _ location: StoreLocation, create: Bool = true, connections: Int = 4, schema: SchemaPolicy = .migrate,
        schemaVersion: Int = StoreSchema.latestVersion, now: Date = Date()
    ) async throws -> StateStore {
        let pool = try await Task.detached {
            try Self.connect(location, create: create, connections: connections)
        }.value
        let store = StateStore(location: location, pool: pool)
        do {
            try await pool.withConnection { connection in
                switch schema {
                case .migrate: try StoreSchema.migrate(connection, to: schemaVersion, now: Self.milliseconds(now))
                case .requireCurrent: try StoreSchema.requireCurrent(connection, location: location)
                case .asIs: break
                }
            }
        } catch let error as StoreError {
            pool.close()
            throw error.code == .query ? error.context("migrating the schema of \(location)") : error
        } catch {
            pool.close()
            throw error
        }
        return store
    }

    private static func connect(_ location: StoreLocation, create: Bool, connections: Int) throws -> ConnectionPool {
        switch location {
        case .sqlite(let path):
            guard create || FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.unavailable, "there is no state store at \(path)")
            }
            // One writer at a time is SQLite's model; one connection serialises cleanly.
            return ConnectionPool([try SQLiteConnection(path: path, create: create)])
        case .postgres(let url):
            var opened: [any SQLConnection] = []
            for _ in 0..<max(1, connections) {
                opened.append(try PostgresConnection(url: url, shownURL: location.description))
            }
            return ConnectionPool(opened)
        }
    }

    /// Closes the store's connections.
    package func close() {
        pool.close()
    }

    package func schemaVersion() async throws -> Int {
        try await pool.withConnection { try StoreSchema.version($0) }
    }

    // MARK: Helpers

    static func milliseconds(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ milliseconds: Int) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// A document as the store keeps it: the wire's JSON.
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String, what: String) throws -> T {
        do {
            return try decoder.decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(.query, "the stored \(what) cannot be read: \(error)")
        }
    }

    private static let encoder = WireJSON.encoder()
    private static let decoder = WireJSON.decoder()

    /// A state, role or decision read back from a column; a value this version does not know means
    /// the store was written by a newer Stellwerk.
    static func wireValue<T: WireEnum>(_ type: T.Type, _ text: String) throws(StoreError) -> T {
        guard let value = T(rawValue: text) else {
            throw StoreError(
                .query,
                "the store holds '\(text)', which is not a \(T.wireName) this stellwerk knows; upgrade stellwerk")
        }
        return value
    }

    /// Runs `body` in one transaction on a connection of its own.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.withConnection { connection in try connection.transaction { try body(connection) } }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }

    // MARK: Audit log

    /// Appends one entry inside the caller's transaction, chained to the newest one.
    static func appendAudit(_ event: AuditEvent, at now: Date, on connection: any SQLConnection) throws -> AuditEntry {
        let head = try connection.query(
            "SELECT seq, hash FROM audit_head WHERE id = 1" + connection.dialect.forUpdate
        ).first
        let sequence = (head?.integer(0) ?? 0) + 1
        let previous = head?.text(1) ?? ""
        let at = date(milliseconds(now))
        let hash = AuditEntry.hash(
            sequence: sequence, at: at, actor: event.actor, action: event.action, environment: event.environment,
            object: event.object, detail: event.detail, previousHash: previous)
        try connection.run(
            """
            INSERT INTO audit_log (seq, at, actor, action, environment, object, detail, previous_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """, .integer(Int64(sequence)), .integer(Int64(milliseconds(at))), .text(event.actor), .text(event.action),
            .text(event.environment), .text(event.object), .text(event.detail), .text(previous), .text(hash))
        try connection.run(
            """
            INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
            """, .integer(Int64(sequence)), .text(hash))
        return AuditEntry(
            sequence: sequence, at: at, actor: event.actor, action: event.action, environment: event.environment,
            object: event.object, detail: event.detail, previousHash: previous, hash: hash)
    }

    /// Appends an entry for an action that changed nothing else in the store (a refused join, say).
    @discardableResult
    package func audit(_ event: AuditEvent, at now: Date = Date()) async throws -> AuditEntry {
        try await transaction { try Self.appendAudit(event, at: now, on: $0) }
    }

    /// Entries oldest first, optionally of one environment and only the newest `limit`.
    package func auditEntries(environment: String? = nil, limit: Int? = nil) async throws -> [AuditEntry] {
        try await read { connection in
            var sql = "SELECT seq, at, actor, action, environment, object, detail, previous_hash, hash FROM audit_log"
            let parameters = Self.filter(&sql, environment: environment)
            sql += " ORDER BY seq DESC"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            return try connection.execute(sql, parameters).map(Self.auditEntry).reversed()
        }
    }

    static func auditEntry(_ row: SQLRow) -> AuditEntry {
        AuditEntry(
            sequence: row.integer(0), at: date(row.integer(1)), actor: row.text(2), action: row.text(3),
            environment: row.text(4), object: row.text(5), detail: row.text(6), previousHash: row.text(7),
            hash: row.text(8))
    }

    /// Walks the whole chain and names every entry that was modified, deleted or moved.
    package func verifyAudit() async throws -> AuditVerification {
        try await read { connection in
            let rows = try connection.query(
                "SELECT seq, at, actor, action, environment, object, detail, previous_hash, hash FROM audit_log ORDER BY seq"
            )
            let head = try connection.query("SELECT seq, hash FROM audit_head WHERE id = 1").first
            return AuditChain.verify(
                rows.map(Self.auditEntry), headSequence: head?.integer(0) ?? 0, headHash: head?.text(1) ?? "")
        }
    }

    // MARK: Backup

    /// Writes a consistent copy of a SQLite store to `path` while it stays in use.
    package func backup(to path: String) async throws {
        guard case .sqlite = location else {
            throw StoreError(
                .unsupported,
                "stellwerk store backup copies SQLite stores; back up PostgreSQL with pg_dump (docs/operations.md)")
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.conflict, "\(path) exists already; choose a new file for the backup")
        }
        try await read { connection in
            guard let sqlite = connection as? SQLiteConnection else { return }
            try sqlite.backup(to: path)
        }
    }
}

/// Checks a hash chain of audit entries.
enum AuditChain {
    static func verify(_ entries: [AuditEntry], headSequence: Int, headHash: String) -> AuditVerification {
        var problems: [String] = []
        var expectedSequence = 1
        var previousHash = ""
        for entry in entries {
            if entry.sequence > expectedSequence {
                let missing =
                    entry.sequence - expectedSequence == 1
                    ? "entry \(expectedSequence) is missing"
                    : "entries \(expectedSequence)…\(entry.sequence - 1) are missing"
                problems.append("\(missing): the log jumps from \(expectedSequence - 1) to \(entry.sequence) (deleted)")
            }
            let recomputed = AuditEntry.hash(
                sequence: entry.sequence, at: entry.at, actor: entry.actor, action: entry.action,
                environment: entry.environment, object: entry.object, detail: entry.detail,
                previousHash: entry.previousHash)
            if recomputed != entry.hash {
                problems.append("entry \(entry.sequence) was modified: its content does not match its hash")
            } else if entry.previousHash != previousHash, entry.sequence == expectedSequence {
                problems.append(
                    "entry \(entry.sequence) does not follow entry \(entry.sequence - 1): entries were reordered or replaced"
                )
            }
            previousHash = entry.hash
            expectedSequence = entry.sequence + 1
        }
        let last = entries.last
        if headSequence > (last?.sequence ?? 0) {
            problems.append(
                "the newest entries were removed: the log ends at \(last?.sequence ?? 0), but its head records \(headSequence)"
            )
        } else if let last, headSequence == last.sequence, headHash != last.hash {
            problems.append("entry \(last.sequence), the newest, was replaced: it does not match the log's head")
        }
        return AuditVerification(entries: entries.count, problems: problems)
    }
}

extension StateStore {
    /// Adds `WHERE environment = $1` to a query when an environment is given, and returns its parameters.
    static func filter(_ sql: inout String, environment: String?) -> [SQLValue] {
        guard let environment else { return [] }
        sql += " WHERE environment = $1"
        return [.text(environment)]
    }
}
