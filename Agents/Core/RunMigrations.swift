import Database
import Dispatch
import FoundationEssentials
import Glibc
import Identity

/// Runs a release's migration command in its folder and waits for it.
enum RunMigrations {
    /// The exit status; the wait happens on a Dispatch thread, off Swift's cooperative pool.
    /// `started` learns the migration's process (the leader of its own session and group) as soon as
    /// it runs, so an agent killed meanwhile can find it again.
    /// `lock` (the instance's migration lock) is handed to the migration, which holds it while it runs.
    static func run(
        _ executable: String, arguments: [String], in folder: URL, log: URL, user: ServiceUser?, lock: Int32,
        started: @escaping @Sendable (ProcessIdentity) -> Void
    ) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try runBlocking(
                            executable, arguments: arguments, in: folder, log: log, user: user, lock: lock,
                            started: started)
                    })
            }
        }
    }

    private static func runBlocking(
        _ executable: String, arguments: [String], in folder: URL, log: URL, user: ServiceUser?, lock: Int32,
        started: (ProcessIdentity) -> Void
    ) throws -> Int32 {
        let process = try StartProcess.start(
            executable, arguments: arguments, directory: folder, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
            log: log, user: user, handing: lock)
        started(process)
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) == -1 && errno == EINTR {}
        return StopProcess.exitCode(fromWaitStatus: status)
    }
}

/// Copies of an instance's data folder, taken before migrations: SQLite files through SQLite's online
/// backup (consistent while the old release still writes), everything else as plain copies. Next to
/// each backup, `NAME.migration` names the newest migration the data had then (`none` before any),
/// so going back past migrations that cannot be undone finds the copy from before them.
enum DataBackup {
    /// The file in a data folder that names the newest migration the data went through, written by
    /// the agent right after a migration succeeds. It travels with every copy, so a backup's label is
    /// what is inside it, not what the agent believed when it took the copy.
    static let markerName = ".stellwerk-migration"

    /// The migration the data in `folder` (a data folder or a backup) is at, when it says.
    static func migration(of folder: URL) -> String? {
        (try? String(contentsOf: folder.appendingPathComponent(markerName), encoding: .utf8))?
            .filter { !$0.isWhitespace }
    }

    /// Records that the data in `data` is at `migration`, atomically.
    static func record(_ migration: String, in data: URL) throws {
        try Data(migration.utf8).write(to: data.appendingPathComponent(markerName), options: .atomic)
    }

    /// `migration` is what the agent's records say; the data's own marker wins where it has one.
    static func make(of data: URL, into backups: URL, migration: String?) throws -> URL {
        let manager = FileManager.default
        let target = backups.appendingPathComponent("\(Int(Date().timeIntervalSince1970 * 1000))")
        try PrivateFiles.folder(backups)
        try PrivateFiles.folder(target)
        let label = Self.migration(of: data) ?? migration ?? "none"
        try Data(label.utf8).write(to: URL(fileURLWithPath: target.path + ".migration"))
        let names = (try? manager.contentsOfDirectory(atPath: data.path)) ?? []
        for name in names {
            let source = data.appendingPathComponent(name)
            let destination = target.appendingPathComponent(name)
            if name.hasSuffix("-wal") || name.hasSuffix("-shm") { continue }  // part of the SQLite backup
            if name.hasSuffix(".sqlite") || name.hasSuffix(".db") {
                try SQLiteConnection.backup(file: source.path, to: destination.path)
            } else {
                try manager.copyItem(at: source, to: destination)
            }
        }
        return target
    }

    /// The newest backup labelled `migration`, and the migration its data says it is at (nil when
    /// the copy has no marker, from before the agent wrote them).
    static func newest(in backups: URL, atMigration migration: String) -> (backup: URL, holds: String?)? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: backups.path)) ?? []
        return
            names
            .filter { name in
                name.hasSuffix(".migration")
                    && (try? String(contentsOf: backups.appendingPathComponent(name), encoding: .utf8)) == migration
            }
            .map { String($0.dropLast(".migration".count)) }
            .filter { FileManager.default.fileExists(atPath: backups.appendingPathComponent($0).path) }
            .max { (Int($0) ?? 0) < (Int($1) ?? 0) }
            .map { backups.appendingPathComponent($0) }
            .map { ($0, Self.migration(of: $0)) }
    }

    /// Removes all but the newest `keeping` backups in `backups` (with their labels and database
    /// dumps); answers the names removed.
    @discardableResult
    static func prune(_ backups: URL, keeping: Int) -> [String] {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: backups.path)) ?? []
        let taken = names.compactMap { Int($0) }.sorted(by: >)
        var removed: [String] = []
        for stamp in taken.dropFirst(max(1, keeping)) {
            let backup = backups.appendingPathComponent(String(stamp))
            try? manager.removeItem(at: backup)
            try? manager.removeItem(at: URL(fileURLWithPath: backup.path + ".migration"))
            try? manager.removeItem(at: PostgresBackup.folder(of: backup))
            removed.append(String(stamp))
        }
        return removed
    }

    /// Puts the backup in place of the data folder.
    static func restore(_ backup: URL, to data: URL) throws {
        let manager = FileManager.default
        let staging = data.deletingLastPathComponent().appendingPathComponent(".data.restoring")
        try? manager.removeItem(at: staging)
        try manager.copyItem(at: backup, to: staging)
        let old = data.deletingLastPathComponent().appendingPathComponent(".data.old")
        try? manager.removeItem(at: old)
        if manager.fileExists(atPath: data.path) { try manager.moveItem(at: data, to: old) }
        try manager.moveItem(at: staging, to: data)
        try? manager.removeItem(at: old)
    }
}
