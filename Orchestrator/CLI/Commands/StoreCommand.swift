import ArgumentParser
import Foundation
import Store

/// `stellwerk store`: look after the state store itself.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Look after the state store: where it is, its schema, backups.",
        discussion: """
            Examples:
              stellwerk store info
              stellwerk store backup /var/backups/stellwerk-$(date +%F).sqlite
            """,
        subcommands: [StoreInfo.self, StoreBackup.self])
}

struct StoreInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show the store's location and schema version (migrating it if older).",
        discussion: """
            Example:
              stellwerk store info --store postgres://stellwerk@db.example/stellwerk
            """)

    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        let store = try await storeOption.open(create: false)
        defer { store.close() }
        let terminal = Terminal.detect()
        terminal.line("store:  \(store.location)")
        terminal.line("schema: version \(try await store.schemaVersion())")
    }
}

struct StoreBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of a SQLite store to a new file while it stays in use.",
        discussion: """
            Uses SQLite's online backup, so an orchestrator may keep writing meanwhile. PostgreSQL stores
            are backed up with pg_dump (see docs/operations.md).

            Example:
              stellwerk store backup /var/backups/stellwerk.sqlite
            """)

    @OptionGroup var storeOption: StoreOption
    @Argument(help: ArgumentHelp("The new file to write.", valueName: "PATH")) var path: String

    func run() async throws {
        let store = try await storeOption.open(create: false)
        defer { store.close() }
        do {
            try await store.backup(to: path)
        } catch let error as StoreError {
            throw error.cliError
        }
        Terminal.detect().line("Backed up \(store.location) to \(path).")
    }
}
