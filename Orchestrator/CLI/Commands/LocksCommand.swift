import ArgumentParser
import Foundation
import Store
import WorkspaceFiles

/// `stellwerk locks`: the leases rollouts and orchestrator instances hold.
struct LocksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locks",
        abstract: "List and break the locks (expiring leases) of rollouts and orchestrator instances.",
        discussion: """
            Every rollout and the leader role among orchestrators sharing one PostgreSQL hold a lease that
            expires unless its holder renews it. A crashed holder's lease simply expires; break one only
            when you know its holder is gone and cannot wait.

            Examples:
              stellwerk locks list
              stellwerk locks break rollout/live --store postgres://stellwerk@db.example/stellwerk
            """,
        subcommands: [ListLocks.self, BreakLock.self],
        defaultSubcommand: ListLocks.self)
}

struct ListLocks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every lock with its holder and expiry.",
        discussion: """
            Example:
              stellwerk locks list --json
            """)

    @OptionGroup var storeOption: StoreOption
    @Flag(name: .long, help: "Print the locks as JSON.") var json = false

    func run() async throws {
        let store = try await storeOption.open(create: false)
        defer { store.close() }
        let now = Date()
        let leases = try await store.leases()
        if json {
            struct Entry: Encodable {
                var name, holder: String
                var acquiredAt, expiresAt: Date
                var held: Bool
            }
            let entries = leases.map {
                Entry(
                    name: $0.name, holder: $0.holder, acquiredAt: $0.acquiredAt, expiresAt: $0.expiresAt,
                    held: $0.isHeld(at: now))
            }
            FileHandle.standardOutput.write(try JSONFiles.encode(entries))
            return
        }
        let terminal = Terminal.detect()
        guard !leases.isEmpty else {
            terminal.line("No locks.")
            return
        }
        let rows = leases.map { lease in
            [
                lease.name, lease.holder, Time.text(lease.acquiredAt), Time.text(lease.expiresAt),
                lease.isHeld(at: now) ? "held" : "expired",
            ]
        }
        terminal.table(header: ["LOCK", "HOLDER", "ACQUIRED", "EXPIRES", "STATE"], rows: rows)
    }
}

struct BreakLock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "break", abstract: "Remove a lock whoever holds it (recorded in the audit log).",
        discussion: """
            Example:
              stellwerk locks break rollout/sandbox
            """)

    @OptionGroup var storeOption: StoreOption
    @Argument(help: ArgumentHelp("The lock's name, as `stellwerk locks list` shows it.", valueName: "NAME"))
    var name: String

    func run() async throws {
        let store = try await storeOption.open(create: false)
        defer { store.close() }
        do {
            let lease = try await store.breakLease(name, actor: Actor.current)
            Terminal.detect().line(
                "Broke lock \(lease.name), held by \(lease.holder) until \(Time.text(lease.expiresAt)).")
        } catch let error as StoreError {
            throw error.cliError
        }
    }
}

/// Who is acting, for the audit log: `$STELLWERK_ACTOR`, else `cli:<login name>`. Operator tokens
/// with roles replace this with the server.
enum Actor {
    static var current: String {
        let environment = ProcessInfo.processInfo.environment
        if let actor = environment["STELLWERK_ACTOR"], !actor.isEmpty { return actor }
        return "cli:" + (environment["USER"] ?? environment["LOGNAME"] ?? "unknown")
    }
}

/// Times as operators read them: UTC, to the second.
enum Time {
    static func text(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}
