import ArgumentParser
import Foundation
import Store
import WorkspaceFiles

/// `--store URL`: where the orchestrator's state lives.
struct StoreOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The state store: sqlite:PATH or postgres://USER@HOST:PORT/DB (default: $STELLWERK_STORE, else "
                + "sqlite:.stellwerk/state.sqlite in the workspace folder).", valueName: "URL"))
    var store: String?

    /// The store location and whether it was named (by flag or environment) rather than defaulted.
    func location(workspaceRoot: URL?) throws -> (location: StoreLocation, named: Bool) {
        if let text = store ?? ProcessInfo.processInfo.environment["STELLWERK_STORE"].flatMap({ $0.isEmpty ? nil : $0 })
        {
            do {
                return (try StoreLocation(parsing: text), true)
            } catch {
                throw CLIError(error.message)
            }
        }
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        guard let root = workspaceRoot ?? DiskSourceTree.findRoot(from: here) else {
            throw CLIError("no state store named and no Stellwerk folder here; pass --store URL or set STELLWERK_STORE")
        }
        return (.sqlite(path: root.appendingPathComponent(".stellwerk/state.sqlite").path), false)
    }

    /// Opens the store; a missing default SQLite store is created (with its folder) only when `create`.
    /// Only `stellwerk store migrate` passes `.migrate`: reading a store never changes its schema.
    func open(
        workspaceRoot: URL? = nil, create: Bool = false, schema: StateStore.SchemaPolicy = .requireCurrent
    ) async throws -> StateStore {
        let (location, _) = try location(workspaceRoot: workspaceRoot)
        if create, case .sqlite(let path) = location {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        do {
            return try await StateStore.open(location, create: create, schema: schema)
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
    }
}

extension StoreError {
    /// Store errors reach the user as one line, like every other CLI error.
    var cliError: CLIError { CLIError(message) }
}
