import Dispatch
import FoundationEssentials
import Glibc
import Identity
import StellwerkAPI

/// The PostgreSQL databases of an instance, kept with each backup of its data folder: dumped with
/// `pg_dump` (custom format) beside the backup, as `BACKUP.databases/PARAMETER.dump`, and put back
/// with `pg_restore` when a migration fails or its release is rolled back.
///
/// A restore removes what the database's role owns and replays the dump, in one transaction: the
/// database holds exactly what it held before, tables the migration added included, or — should
/// the restore fail — what it held when the restore began. So the service must connect as a role of
/// its own that owns its objects; a superuser owns the system's too and is refused before anything
/// is dumped. The password never reaches a command line: the tools get it in their environment.
enum PostgresBackup {
    struct Database: Sendable {
        /// The blueprint parameter that names it (the dump's name in the backup).
        var parameter: String
        var url: String
    }

    /// The folder beside `backup` that holds its dumps (apart from the copy of the data folder, whose
    /// files may be named anything).
    static func folder(of backup: URL) -> URL { URL(fileURLWithPath: backup.path + ".databases") }

    /// The PostgreSQL databases the migrations of `spec` name, with their URLs (secret values opened);
    /// a parameter that is unset, or a SQLite URL (inside the data folder), names none.
    static func databases(of spec: InstanceSpec, secrets: [String: String]) throws -> [Database] {
        var found: [Database] = []
        for parameter in spec.migrations?.databases ?? [] {
            let url: String
            switch spec.parameters[parameter] {
            case .value(let text): url = text
            case .secret(let name, _):
                guard let value = secrets[name] else {
                    throw AgentError(
                        "the secret \(name) (parameter \(parameter)) was not delivered; its database cannot be backed up",
                        transient: true)
                }
                url = value
            case nil: continue
            }
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else { continue }
            found.append(Database(parameter: parameter, url: url))
        }
        return found
    }

    /// Dumps every database beside `backup` (a backup folder the agent just made).
    static func dump(_ databases: [Database], into backup: URL) async throws {
        guard !databases.isEmpty else { return }
        let folder = folder(of: backup)
        try PrivateFiles.folder(folder)
        for database in databases {
            let role = try await run(
                "psql", ["-X", "-q", "-t", "-A", "-c", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"],
                database: database, doing: "checking the role of \(database.parameter)", in: folder)
            if role.filter({ !$0.isWhitespace }) == "t" {
                throw AgentError(
                    "the database of \(database.parameter) is reached as a superuser: a restore could not tell the "
                        + "service's objects from the system's. Give the service a role of its own that owns its database"
                )
            }
            _ = try await run(
                "pg_dump",
                ["--format=custom", "--file=\(folder.appendingPathComponent("\(database.parameter).dump").path)"],
                database: database, doing: "dumping the database of \(database.parameter)", in: folder)
        }
    }

    /// Puts back every database `backup` holds a dump of. A dump whose parameter the instance no
    /// longer names (or names with a SQLite URL) is refused rather than skipped: the data folder
    /// would go back, and the database not with it.
    static func restore(from backup: URL, _ databases: [Database]) async throws {
        let folder = folder(of: backup)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names.sorted() where name.hasSuffix(".dump") {
            let parameter = String(name.dropLast(".dump".count))
            guard let database = databases.first(where: { $0.parameter == parameter }) else {
                throw AgentError(
                    "the backup \(backup.lastPathComponent) holds a dump of the database of \(parameter), which the "
                        + "instance no longer names as a PostgreSQL database; restore it by hand with pg_restore")
            }
            let script = folder.appendingPathComponent(".restore-\(parameter).sql")
            defer { try? FileManager.default.removeItem(at: script) }
            _ = try await run(
                "pg_restore", ["--no-owner", "--file=\(script.path)", folder.appendingPathComponent(name).path],
                database: nil, doing: "reading the dump of \(parameter)", in: folder)
            _ = try await run(
                "psql",
                [
                    "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-c", "DROP OWNED BY CURRENT_USER",
                    "-f", script.path,
                ], database: database, doing: "restoring the database of \(parameter)", in: folder)
        }
    }

    /// Runs a PostgreSQL client tool connected to `database` (its URL without the password, which
    /// goes in PGPASSWORD), off the cooperative pool; answers its output, or throws it.
    private static func run(
        _ tool: String, _ arguments: [String], database: Database?, doing: String, in folder: URL
    ) async throws -> String {
        guard
            let path = ["/usr/bin", "/usr/local/bin"].map({ "\($0)/\(tool)" }).first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw AgentError("\(doing): \(tool) is not installed on this node (the postgresql-client package)")
        }
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C", "PGCONNECT_TIMEOUT": "10"]
        var all = arguments
        if let database {
            let (url, password) = try withoutPassword(database.url, parameter: database.parameter)
            if let password { environment["PGPASSWORD"] = password }
            all += ["--dbname=\(url)"]
        }
        let log = folder.appendingPathComponent(".\(tool)-\(UUID().uuidString.prefix(8)).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let arguments = all
        let environmentForTool = environment
        let status = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { () throws(ProcessError) -> Int32 in
                        let process = try StartProcess.start(
                            path, arguments: arguments, directory: folder, environment: environmentForTool, log: log)
                        var status: Int32 = 0
                        while waitpid(process.pid, &status, 0) == -1 && errno == EINTR {}
                        return StopProcess.exitCode(fromWaitStatus: status)
                    })
            }
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let said = output.split(separator: "\n").prefix(3).joined(separator: "; ")
            throw AgentError("\(doing): \(tool) exited with status \(status): \(said.prefix(400))")
        }
        return output
    }

    /// The URL without its password, and the password (percent-decoded), so that no command line
    /// (which every user of the machine may read) holds it.
    static func withoutPassword(_ url: String, parameter: String) throws -> (url: String, password: String?) {
        guard var components = URLComponents(string: url), components.host != nil else {
            throw AgentError("the database URL of \(parameter) cannot be read as postgres://USER@HOST:PORT/DATABASE")
        }
        let password = components.password
        components.password = nil
        guard let stripped = components.string else {
            throw AgentError("the database URL of \(parameter) cannot be read as postgres://USER@HOST:PORT/DATABASE")
        }
        return (stripped, password)
    }
}
