import Database
import Foundation
import StellwerkAPI
import TestSupport
import Testing

@testable import Store

/// A store file written by the first schema version (Tests/StoreTests/Fixtures/state-v1.sqlite) opens
/// with today's code: migrated forward, its data and audit chain intact.
///
/// The fixture was made by `GENERATE_STORE_FIXTURES=1 swift test --filter SchemaFixtureTests`, which
/// opens a new store at schema version 1 and writes rows as version 1 wrote them.
@Suite struct SchemaFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/state-v1.sqlite")

    @Test func storeOfTheFirstVersion_isMigratedOnOpenKeepingItsData() async throws {
        let copy = try Fixtures.temporaryFolder("stellwerk-v1").appendingPathComponent("state.sqlite")
        try FileManager.default.copyItem(at: Self.fixture, to: copy)

        let store = try await StateStore.open(.sqlite(path: copy.path), create: false)
        defer { store.close() }
        #expect(try await store.schemaVersion() == StoreSchema.latestVersion)
        #expect(try await store.serial(environment: "sandbox") == 3)
        #expect(try await store.desiredStates(environment: "sandbox").map(\.node) == ["kl-sbx-1"])
        #expect(try await store.nodes(environment: "sandbox").map(\.name) == ["kl-sbx-1"])
        #expect(try await store.leases().map(\.holder) == ["orchestrator-1"])
        let entries = try await store.auditEntries()
        #expect(entries.map(\.action) == ["desired-state.write", "desired-state.write", "desired-state.write"])
        #expect(try await store.verifyAudit().isIntact)

        // The new anchor continues the old chain.
        try await store.audit(AuditEvent(actor: "operator:anna", action: "check", object: "store"))
        #expect(try await store.verifyAudit() == AuditVerification(entries: 4, problems: []))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENERATE_STORE_FIXTURES"] == "1"))
    func generateTheFirstVersionFixture() async throws {
        try? FileManager.default.removeItem(at: Self.fixture)
        let store = try await StateStore.open(.sqlite(path: Self.fixture.path), schemaVersion: 1)
        #expect(try await store.schemaVersion() == 1)
        store.close()
        let connection = try SQLiteConnection(path: Self.fixture.path, create: false)
        defer { connection.close() }
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let desired = NodeDesiredState(
            node: "kl-sbx-1", site: "kaiserslautern", environment: "sandbox",
            address: "kl-sbx-1.sandbox.kaiserslautern.example", instances: [])
        try connection.run(
            "INSERT INTO environments (name, serial, updated_at) VALUES ('sandbox', 3, $1)",
            .integer(Int64(StateStore.milliseconds(at))))
        try connection.run(
            "INSERT INTO desired_states (environment, node, serial, document) VALUES ('sandbox', 'kl-sbx-1', 3, $1)",
            .text(try StateStore.encode(desired)))
        try connection.run(
            """
            INSERT INTO nodes (environment, name, site, address, labels, certificate_fingerprint, last_seen, connection)
            VALUES ('sandbox', 'kl-sbx-1', 'kaiserslautern', 'kl-sbx-1.sandbox.kaiserslautern.example', '{"role":"app"}',
                NULL, NULL, 'pending')
            """)
        try connection.run(
            "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ('leader', 'orchestrator-1', $1, $2)",
            .integer(Int64(StateStore.milliseconds(at))), .integer(Int64(StateStore.milliseconds(at) + 3_600_000)))
        var previous = ""
        for sequence in 1...3 {
            let when = at.addingTimeInterval(Double(sequence))
            let hash = AuditEntry.hash(
                sequence: sequence, at: when, actor: "operator:anna", action: "desired-state.write",
                environment: "sandbox", object: "sandbox", detail: "serial \(sequence - 1) → \(sequence)",
                previousHash: previous)
            try connection.run(
                """
                INSERT INTO audit_log (seq, at, actor, action, environment, object, detail, previous_hash, hash)
                VALUES ($1, $2, 'operator:anna', 'desired-state.write', 'sandbox', 'sandbox', $3, $4, $5)
                """, .integer(Int64(sequence)), .integer(Int64(StateStore.milliseconds(when))),
                .text("serial \(sequence - 1) → \(sequence)"), .text(previous), .text(hash))
            previous = hash
        }
        try connection.executeScript("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE")
    }
}
