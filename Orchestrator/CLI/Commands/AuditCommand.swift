import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI
import Store

/// `stellwerk audit`: the append-only, hash-chained record of every state change.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the audit log.",
        discussion: """
            Every state-changing action is recorded with who, what, when, the environment and the object. \
            Each entry carries a SHA-256 hash over its content and the previous entry's hash, so a \
            modified, deleted or reordered entry breaks the chain and `audit verify` names it.

            With an orchestrator configured (STELLWERK_SERVER or --server) the log is read through its API \
            (admin role); otherwise straight from the state store (--store).

            Examples:
              stellwerk audit list --env live
              stellwerk audit verify
            """,
        subcommands: [ListAudit.self, VerifyAudit.self],
        defaultSubcommand: ListAudit.self)
}

struct ListAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show audit entries, oldest first.",
        discussion: """
            Example:
              stellwerk audit list --env live --limit 20
            """)

    @OptionGroup var connection: ServerConnectionOption
    @OptionGroup var storeOption: StoreOption
    @Option(name: .long, help: "Only entries of this environment.") var env: String?
    @Option(name: .long, help: "Only the newest N entries (1 to 10000; default: all from a store, 100 from a server).")
    var limit: Int?
    @Flag(name: .long, help: "Print the entries as JSON.") var json = false

    func run() async throws {
        if let limit, !(1...10_000).contains(limit) { throw ValidationError("--limit must be between 1 and 10000") }
        let entries: [AuditEntryView]
        if connection.isConfigured {
            entries = try await connection.with { try await $0.send(.audit(limit: limit ?? 100, environment: env)) }
        } else {
            let store = try await storeOption.open()
            defer { store.close() }
            entries = try await store.auditEntries(environment: env, limit: limit).map(\.view)
        }
        if json {
            try Output.json(entries)
            return
        }
        let terminal = Terminal.detect()
        guard !entries.isEmpty else {
            terminal.line("No audit entries\(env.map { " for environment \($0)" } ?? "").")
            return
        }
        terminal.table(
            header: ["#", "TIME", "ACTOR", "ACTION", "ENVIRONMENT", "OBJECT", "DETAIL"],
            rows: entries.map {
                [String($0.sequence), Time.text($0.at), $0.actor, $0.action, $0.environment, $0.object, $0.detail]
            })
    }
}

struct VerifyAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the hash chain; exit 1 and name every broken entry.",
        discussion: """
            Example:
              stellwerk audit verify --json
            """)

    @OptionGroup var connection: ServerConnectionOption
    @OptionGroup var storeOption: StoreOption
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() async throws {
        let verification: AuditVerificationView
        if connection.isConfigured {
            verification = try await connection.with { try await $0.send(.verifyAudit) }
        } else {
            let store = try await storeOption.open()
            defer { store.close() }
            let checked = try await store.verifyAudit()
            verification = AuditVerificationView(entries: checked.entries, problems: checked.problems)
        }
        if json {
            try Output.json(verification)
        } else {
            let terminal = Terminal.detect()
            if verification.problems.isEmpty {
                terminal.line(terminal.green("intact:") + " \(verification.entries) entries, the hash chain holds.")
            } else {
                for problem in verification.problems {
                    terminal.line(terminal.red("broken: ") + problem, to: .standardError)
                }
            }
        }
        if !verification.problems.isEmpty { throw ExitCode(1) }
    }
}
