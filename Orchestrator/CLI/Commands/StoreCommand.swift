import ArgumentParser
import Foundation
import Store

/// `stellwerk store`: look after the state store itself.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Look after the state store: where it is, its schema, backups.",
        discussion: """
            Only `stellwerk store migrate` and `stellwerk server` change a store's schema; every other \
            command refuses a store at an older version and says so.

            Examples:
              stellwerk store info
              stellwerk store backup /var/backups/stellwerk-$(date +%F).sqlite
              stellwerk store migrate
            """,
        subcommands: [StoreInfo.self, StoreMigrate.self, StoreBackup.self])
}

struct StoreInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show the store's location and schema version; change nothing.",
        discussion: """
            Example:
              stellwerk store info --store postgres://stellwerk@db.example/stellwerk
            """)

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let store = try await storeOption.open(schema: .asIs)
        defer { store.close() }
        let terminal = Terminal.detect()
        let version = try await store.schemaVersion()
        let latest = StoreSchema.latestVersion
        terminal.line("store:  \(store.location)")
        terminal.line(
            "schema: version \(version)"
                + (version < latest
                    ? " (this stellwerk needs \(latest): run `stellwerk store migrate`)"
                    : version > latest ? " (newer than this stellwerk knows, \(latest): upgrade stellwerk)" : ""))
    }
}

struct StoreMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Bring the store's schema to this stellwerk's version, in one transaction.",
        discussion: """
            Back the store up first (`stellwerk store backup`, or pg_dump). A store shared by several \
            servers is migrated once; the others wait for it.

            Example:
              stellwerk store migrate --store postgres://stellwerk@db.example/stellwerk
            """)

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let before: Int
        do {
            let store = try await storeOption.open(schema: .asIs)
            before = try await store.schemaVersion()
            store.close()
        }
        let store = try await storeOption.open(schema: .migrate)
        defer { store.close() }
        let after = try await store.schemaVersion()
        Terminal.detect().line(
            before == after
                ? "The store \(store.location) is at schema version \(after) already."
                : "Migrated \(store.location) from schema version \(before) to \(after).")
    }
}

struct StoreBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of a SQLite store to a new file while it stays in use.",
        discussion: """
            Uses SQLite's online backup, so an orchestrator may keep writing meanwhile. PostgreSQL stores \
            are backed up with pg_dump (see docs/operations.md).

            Example:
              stellwerk store backup /var/backups/stellwerk.sqlite
            """)

    @OptionGroup var storeOption: StoreOption
    @Argument(help: ArgumentHelp("The new file to write.", valueName: "PATH")) var path: String

    func run() async throws {
        let store = try await storeOption.open(schema: .asIs)
        defer { store.close() }
        do {
            try await store.backup(to: path)
        } catch let error as StoreError {
            throw error.cliError
        }
        Terminal.detect().line("Backed up \(store.location) to \(path).")
    }
}
