import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI
import Store

/// `stellwerk lock`: the leases the orchestrator's engines hold.
struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "List and break the locks (expiring leases) the orchestrator's engines hold.",
        discussion: """
            The rollout engine and the promotion engine each run on one server at a time: the one that \
            holds its lease, renewed every pass and expiring unless renewed. A crashed holder's lease \
            simply expires; break one only when you know its holder is gone and cannot wait.

            With an orchestrator configured (STELLWERK_SERVER or --server) the locks are read and broken \
            through its API (breaking needs the admin role); otherwise straight in the state store.

            Examples:
              stellwerk lock list
              stellwerk lock break rollout-engine
            """,
        subcommands: [ListLocks.self, BreakLock.self],
        defaultSubcommand: ListLocks.self,
        aliases: ["locks"])
}

struct ListLocks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every lock with its holder and expiry.",
        discussion: """
            Example:
              stellwerk lock list --json
            """)

    @OptionGroup var connection: ServerConnectionOption
    @OptionGroup var storeOption: StoreOption
    @Flag(name: .long, help: "Print the locks as JSON.") var json = false

    func run() async throws {
        let locks: [LockView]
        if connection.isConfigured {
            locks = try await connection.with { try await $0.send(.locks) }
        } else {
            let store = try await storeOption.open()
            defer { store.close() }
            locks = try await store.leases().map(\.view)
        }
        if json {
            try Output.json(locks)
            return
        }
        let terminal = Terminal.detect()
        guard !locks.isEmpty else {
            terminal.line("No locks.")
            return
        }
        let now = Date()
        terminal.table(
            header: ["LOCK", "HOLDER", "ACQUIRED", "EXPIRES", "STATE"],
            rows: locks.map {
                [
                    $0.name, $0.holder, Time.text($0.acquiredAt), Time.text($0.expiresAt),
                    $0.expiresAt > now ? "held" : "expired",
                ]
            })
    }
}

struct BreakLock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "break", abstract: "Remove a lock whoever holds it (recorded in the audit log).",
        discussion: """
            Example:
              stellwerk lock break rollout-engine
            """)

    @OptionGroup var connection: ServerConnectionOption
    @OptionGroup var storeOption: StoreOption
    @Argument(help: ArgumentHelp("The lock's name, as `stellwerk lock list` shows it.", valueName: "NAME"))
    var name: String

    func run() async throws {
        if connection.isConfigured {
            _ = try await connection.with { try await $0.send(.breakLock(name)) }
            Terminal.detect().line("Broke lock \(name).")
            return
        }
        let store = try await storeOption.open()
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

/// Who is acting on a store directly, for the audit log: `$STELLWERK_ACTOR`, else `cli:<login name>`.
/// Through the orchestrator, the operator's token says who it is.
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
