import Database
import Foundation
import Model
import Planner
import TestSupport
import Testing

@testable import Store

/// The store commands, run as a user runs them against a real store.
@Suite struct StoreCommandTests {
    private func sqliteStore() throws -> (url: String, path: String) {
        let path = try Fixtures.temporaryFolder("stellwerk-cli-store").appendingPathComponent("state.sqlite").path
        return ("sqlite:\(path)", path)
    }

    @Test func locks_areListedAndBrokenWithAnAuditEntry() async throws {
        let (url, path) = try sqliteStore()
        let store = try await StateStore.open(.sqlite(path: path))
        _ = try await store.acquireLease("rollout/sandbox", holder: "orchestrator-1", for: 3600)
        store.close()

        // `locks` is the former name of `lock`, kept as an alias.
        let listed = try await ProcessRunner.run("stellwerk", ["locks", "list", "--store", url])
        #expect(listed.status == 0, "\(listed.standardError)")
        let lines = listed.standardOutput.split(separator: "\n")
        #expect(lines.first?.hasPrefix("LOCK") == true)
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("rollout/sandbox  orchestrator-1") == true)
        #expect(lines.last?.hasSuffix("held") == true)

        let broken = try await ProcessRunner.run(
            "stellwerk", ["lock", "break", "rollout/sandbox", "--store", url],
            environment: ["STELLWERK_ACTOR": "operator:anna"])
        #expect(broken.status == 0, "\(broken.standardError)")
        #expect(broken.standardOutput.hasPrefix("Broke lock rollout/sandbox, held by orchestrator-1 until "))
        #expect(try await ProcessRunner.run("stellwerk", ["lock", "--store", url]).standardOutput == "No locks.\n")

        let again = try await ProcessRunner.run("stellwerk", ["lock", "break", "rollout/sandbox", "--store", url])
        #expect(again.status == 1)
        #expect(
            again.standardError
                == "Error: there is no lock named 'rollout/sandbox'; `stellwerk lock list` shows them\n")

        let audit = try await ProcessRunner.run("stellwerk", ["audit", "list", "--json", "--store", url])
        let entries = try JSONSerialization.jsonObject(with: Data(audit.standardOutput.utf8)) as? [[String: Any]]
        #expect(entries?.count == 1)
        #expect(entries?.first?["action"] as? String == "lock.break")
        #expect(entries?.first?["actor"] as? String == "operator:anna")
    }

    @Test func auditVerify_exitsOneAndNamesTheEntryAfterTampering() async throws {
        let (url, path) = try sqliteStore()
        let store = try await StateStore.open(.sqlite(path: path))
        for index in 1...3 {
            try await store.audit(
                AuditEvent(actor: "operator:anna", action: "test.step", environment: "live", object: "o\(index)"))
        }
        store.close()
        let intact = try await ProcessRunner.run("stellwerk", ["audit", "verify", "--store", url])
        #expect(intact.status == 0)
        #expect(intact.standardOutput == "intact: 3 entries, the hash chain holds.\n")
        let listed = try await ProcessRunner.run(
            "stellwerk", ["audit", "--env", "live", "--limit", "2", "--store", url])
        #expect(listed.standardOutput.split(separator: "\n").count == 3)

        // Behind the store's back, as someone with write access to the file would.
        let connection = try SQLiteConnection(path: path, create: false)
        try connection.executeScript("UPDATE audit_log SET actor = 'operator:mallory' WHERE seq = 2")
        connection.close()
        let broken = try await ProcessRunner.run("stellwerk", ["audit", "verify", "--store", url])
        #expect(broken.status == 1)
        #expect(broken.standardError == "broken: entry 2 was modified: its content does not match its hash\n")
    }

    @Test func storeBackup_copiesALiveSQLiteStoreAndRefusesToOverwrite() async throws {
        let (url, path) = try sqliteStore()
        let store = try await StateStore.open(.sqlite(path: path))
        try await store.audit(AuditEvent(actor: "operator:anna", action: "test.step", object: "o"))
        let backup = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("copy.sqlite").path
        // The store stays open (and in WAL mode) while the backup runs.
        let result = try await ProcessRunner.run("stellwerk", ["store", "backup", backup, "--store", url])
        #expect(result.status == 0, "\(result.standardError)")
        store.close()
        let copy = try await StateStore.open(.sqlite(path: backup), create: false)
        #expect(try await copy.auditEntries().map(\.action) == ["test.step"])
        #expect(try await copy.verifyAudit().isIntact)
        copy.close()

        let again = try await ProcessRunner.run("stellwerk", ["store", "backup", backup, "--store", url])
        #expect(again.status == 1)
        #expect(again.standardError == "Error: \(backup) exists already; choose a new file for the backup\n")
        let info = try await ProcessRunner.run("stellwerk", ["store", "info", "--store", "sqlite:\(backup)"])
        #expect(info.standardOutput == "store:  sqlite:\(backup)\nschema: version \(StoreSchema.latestVersion)\n")
    }

    @Test func plan_readsTheRecordedStateAndSerialFromTheStore() async throws {
        let (url, path) = try sqliteStore()
        let root = try Fixtures.temporaryFolder()
        try Fixtures.write(Fixtures.files(), under: root)
        let workspace = try Fixtures.load(Fixtures.files())
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let store = try await StateStore.open(.sqlite(path: path))
        let plan = Planner(release: nil).plan(
            sandbox, revision: workspace.revision, recorded: .empty(environment: "sandbox"))
        _ = try await store.apply(plan, actor: "operator:anna")
        store.close()

        let result = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbox", "--root", root.path, "--store", url])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("state serial 1"))
        // Nothing reported yet, so everything is still to create.
        #expect(
            result.standardOutput.hasSuffix(
                "Plan: 3 to create, 0 to update, 0 to migrate, 0 to restart, 0 to remove, 0 unchanged.\n"
                    + "Rollout: 2 nodes in 2 waves (canary 1, then at most 1 at a time); "
                    + "each stays healthy 10s before the next: at least 20s.\n"), "\(result.standardOutput)")
    }

    @Test(arguments: [
        (
            "mysql://db.example/stellwerk",
            "Error: unknown store URL 'mysql://db.example/stellwerk'; use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE"
        ),
        (
            "postgres:///nohost",
            "Error: the store URL 'postgres:///nohost' names no host; write postgres://USER@HOST:PORT/DATABASE"
        ),
        (
            "sqlite:/nonexistent/folder/state.sqlite",
            "Error: there is no state store at /nonexistent/folder/state.sqlite"
        ),
    ])
    func badStoreURL_failsWithOneLine(url: String, expected: String) async throws {
        let result = try await ProcessRunner.run("stellwerk", ["audit", "list", "--store", url])
        #expect(result.status == 1)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError == expected + "\n")
    }

    @Test(.enabled(if: PostgresServer.shouldRun))
    func postgresStore_unreachableOrWithWrongCredentials_failsWithOneLineWithoutThePassword() async throws {
        let server = try await PostgresServer.shared()
        let closedPort = try FreePort.find()
        let unreachable = try await ProcessRunner.run(
            "stellwerk", ["locks", "list", "--store", "postgres://stellwerk:hunter2@127.0.0.1:\(closedPort)/stellwerk"])
        #expect(unreachable.status == 1)
        #expect(unreachable.standardError.split(separator: "\n").count == 1, "\(unreachable.standardError)")
        #expect(
            unreachable.standardError.contains(
                "cannot connect to the PostgreSQL store postgres://stellwerk:***@127.0.0.1"))
        #expect(unreachable.standardError.contains("Connection refused"))
        #expect(!unreachable.standardError.contains("hunter2"))

        let wrongPassword = try await ProcessRunner.run(
            "stellwerk", ["locks", "list", "--store", server.url(password: "hunter2")])
        #expect(wrongPassword.status == 1)
        #expect(wrongPassword.standardError.split(separator: "\n").count == 1, "\(wrongPassword.standardError)")
        #expect(wrongPassword.standardError.contains("password authentication failed for user \"postgres\""))
        #expect(!wrongPassword.standardError.contains("hunter2"))

        let database = try await server.createDatabase()
        let empty = try await ProcessRunner.run("stellwerk", ["store", "info", "--store", database])
        #expect(empty.status == 0, "\(empty.standardError)")
        #expect(empty.standardOutput.contains("schema: version 0 (this stellwerk needs"), "\(empty.standardOutput)")
        #expect(empty.standardOutput.contains("postgres:***@127.0.0.1"))
        let migrated = try await ProcessRunner.run("stellwerk", ["store", "migrate", "--store", database])
        #expect(migrated.status == 0, "\(migrated.standardError)")
        #expect(migrated.standardOutput.contains("from schema version 0 to \(StoreSchema.latestVersion)"))
        let working = try await ProcessRunner.run("stellwerk", ["store", "info", "--store", database])
        #expect(working.standardOutput.hasSuffix("schema: version \(StoreSchema.latestVersion)\n"))
    }

    @Test func readingCommands_onAnOlderStore_refuseAndLeaveItAsItWas_untilStoreMigrate() async throws {
        let (url, path) = try sqliteStore()
        try FileManager.default.copyItem(
            at: Fixtures.repositoryRoot.appendingPathComponent("Tests/StoreTests/Fixtures/state-v1.sqlite"),
            to: URL(fileURLWithPath: path))
        for command in [["audit", "list"], ["lock", "list"], ["audit", "verify"]] {
            let refused = try await ProcessRunner.run("stellwerk", command + ["--store", url])
            #expect(refused.status == 1, "\(command)")
            #expect(
                refused.standardError.contains("has schema version 1, this stellwerk needs")
                    && refused.standardError.contains("run `stellwerk store migrate`"),
                "\(command): \(refused.standardError)")
        }
        let untouched = try await StateStore.open(.sqlite(path: path), create: false, schema: .asIs)
        #expect(try await untouched.schemaVersion() == 1, "a reading command migrated the store")
        untouched.close()
        let info = try await ProcessRunner.run("stellwerk", ["store", "info", "--store", url])
        #expect(info.standardOutput.contains("schema: version 1 (this stellwerk needs"), "\(info.standardOutput)")

        let migrated = try await ProcessRunner.run("stellwerk", ["store", "migrate", "--store", url])
        #expect(migrated.status == 0, "\(migrated.standardError)")
        #expect(migrated.standardOutput.contains("from schema version 1 to \(StoreSchema.latestVersion)"))
        let listed = try await ProcessRunner.run("stellwerk", ["audit", "list", "--store", url])
        #expect(listed.status == 0, "\(listed.standardError)")
    }
}
