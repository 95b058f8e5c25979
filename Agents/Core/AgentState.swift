import Database
package import FoundationEssentials
import Identity
package import StellwerkAPI
import Synchronization

/// What the agent knows about its node, in a SQLite file in its data folder: per instance the spec it
/// runs, from which release folder, as which process, and how it last went. Every step of an install is
/// recorded before the next begins, so an agent killed at any point finds out on its next start.
package final class AgentState: @unchecked Sendable {
    /// One instance as the agent last left it.
    package struct Instance: Codable, Sendable, Hashable {
        package var spec: InstanceSpec
        /// The unpacked release folder the process runs from.
        package var folder: String
        package var process: ProcessIdentity?
        package var health: String?
        package var lastError: String?
        /// The spec and folder that ran before, for rolling back.
        package var previous: Previous?
        /// SHA-256 of each config file as the agent wrote it (secrets filled in), by path; for drift.
        package var writtenFiles: [String: String]?

        package struct Previous: Codable, Sendable, Hashable {
            package var spec: InstanceSpec
            package var folder: String
        }
    }

    private let connection: SQLiteConnection
    private let lock = Mutex(())
    package let folder: URL
    /// Called after each journal entry with its step. Only tests set it (the `stellwerk-test-agent`
    /// stops there to be killed); the agent itself never does, so its binary has no way to pause.
    package var afterJournal: (@Sendable (String) -> Void)?

    /// Opens (or creates) the state file in `folder`.
    package init(folder: URL) throws {
        self.folder = folder
        // The agent's data folder: its journal, desired state and reports, the services' data and
        // its backups are nobody else's to read.
        try PrivateFiles.folder(folder)
        let file = folder.appendingPathComponent("agent.sqlite")
        if !FileManager.default.fileExists(atPath: file.path) {
            // SQLite gives its -wal and -shm files the database file's mode.
            _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        for suffix in ["", "-wal", "-shm"] {
            try PrivateFiles.restrict(URL(fileURLWithPath: file.path + suffix))
        }
        connection = try SQLiteConnection(path: file.path, create: true)
        try connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS instances (service TEXT PRIMARY KEY, record TEXT NOT NULL, updated_at BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS journal (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, step TEXT NOT NULL, detail TEXT NOT NULL,
                at BIGINT NOT NULL)
            """)
        SpaceReserve.keep(in: folder)
    }

    deinit { connection.close() }

    @discardableResult
    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { _ in try body() }
    }

    /// A write; when the disk is full, the agent gives back its space reserve and tries once more,
    /// so what it did and what runs is always recorded.
    @discardableResult
    private func writing<T>(_ body: () throws -> T) throws -> T {
        try locked {
            do {
                return try body()
            } catch let error as DatabaseError where error.message.contains("full") {
                guard SpaceReserve.release(in: folder) else { throw error }
                return try body()
            }
        }
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private static let encoder = WireJSON.encoder()
    private static let decoder = WireJSON.decoder()

    /// Every instance, by service.
    package func instances() throws -> [String: Instance] {
        try locked {
            var result: [String: Instance] = [:]
            for row in try connection.execute("SELECT service, record FROM instances", []) {
                result[row.text(0)] = try Self.decoder.decode(Instance.self, from: Data(row.text(1).utf8))
            }
            return result
        }
    }

    package func save(_ service: String, _ instance: Instance) throws {
        let record = String(decoding: try Self.encoder.encode(instance), as: UTF8.self)
        try writing {
            try connection.execute(
                """
                INSERT INTO instances (service, record, updated_at) VALUES ($1, $2, $3)
                ON CONFLICT (service) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
                """, [.text(service), .text(record), .integer(Self.now())])
        }
    }

    package func remove(_ service: String) throws {
        try writing { try connection.execute("DELETE FROM instances WHERE service = $1", [.text(service)]) }
    }

    /// Records that a step begins (or ended), before the agent goes on.
    package func journal(_ service: String, _ step: String, _ detail: String = "") throws {
        try writing {
            try connection.execute(
                "INSERT INTO journal (service, step, detail, at) VALUES ($1, $2, $3, $4)",
                [.text(service), .text(step), .text(detail), .integer(Self.now())])
        }
        afterJournal?(step)
    }

    /// The journal steps of a service after its last `marker` (or `recovered`) step — all when there
    /// is none — oldest first. An install that ran to its end leaves none after `running`.
    package func steps(since marker: String, of service: String) throws -> [(step: String, detail: String)] {
        try locked {
            let rows = try connection.execute(
                """
                SELECT step, detail FROM journal WHERE service = $1 AND seq > COALESCE(
                    (SELECT MAX(seq) FROM journal WHERE service = $1 AND step IN ($2, 'recovered')), 0)
                ORDER BY seq
                """, [.text(service), .text(marker)])
            return rows.map { ($0.text(0), $0.text(1)) }
        }
    }

    /// When a service's journal last recorded `step`, to the millisecond.
    package func lastTime(of step: String, service: String) throws -> Date? {
        try locked {
            try connection.execute(
                "SELECT at FROM journal WHERE service = $1 AND step = $2 ORDER BY seq DESC LIMIT 1",
                [.text(service), .text(step)]
            ).first.map { Date(timeIntervalSince1970: Double($0.integer(0)) / 1000) }
        }
    }

    /// The last journal step of a service, with its detail.
    package func lastStep(_ service: String) throws -> (step: String, detail: String)? {
        try locked {
            try connection.execute(
                "SELECT step, detail FROM journal WHERE service = $1 ORDER BY seq DESC LIMIT 1", [.text(service)]
            ).first.map { ($0.text(0), $0.text(1)) }
        }
    }
}
