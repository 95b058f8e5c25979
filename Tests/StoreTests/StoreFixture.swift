import Database
import Foundation
import Model
import StellwerkAPI
import TestSupport
import Testing

@testable import Store

/// The two kinds of store every contract test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// A fresh, empty store of a kind, and a way to reach its database behind the store's back.
struct StoreFixture {
    var kind: StoreKind
    var location: StoreLocation
    /// The SQLite file, or the PostgreSQL database name.
    var database: String

    /// A new store location of `kind`: a new SQLite file, or a new database on the shared throwaway
    /// PostgreSQL. Outside CI on a machine without PostgreSQL, the test is reported as skipped.
    static func make(_ kind: StoreKind) async throws -> StoreFixture {
        switch kind {
        case .sqlite:
            let folder = try Fixtures.temporaryFolder("stellwerk-store")
            let path = folder.appendingPathComponent("state.sqlite").path
            return StoreFixture(kind: kind, location: .sqlite(path: path), database: path)
        case .postgres:
            guard PostgresServer.shouldRun else {
                try Test.cancel("PostgreSQL is not installed here (scripts/install-packages installs it)")
            }
            let url = try await PostgresServer.shared().createDatabase()
            let name = String(url.split(separator: "/").last ?? "")
            return StoreFixture(kind: kind, location: .postgres(url: url), database: name)
        }
    }

    func open(schemaVersion: Int = StoreSchema.latestVersion) async throws -> StateStore {
        try await StateStore.open(location, connections: 4, schemaVersion: schemaVersion)
    }

    /// Runs SQL directly on the database, as an attacker or a careless admin would.
    func tamper(_ sql: String) async throws {
        switch kind {
        case .sqlite:
            let connection = try SQLiteConnection(path: database, create: false)
            defer { connection.close() }
            try connection.executeScript(sql)
        case .postgres:
            _ = try await PostgresServer.shared().psql(sql, database: database)
        }
    }
}

/// Sample values for store tests.
enum StoreSamples {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    static func instance(_ service: String, release: String = "r1", port: Int = 8101) -> InstanceSpec {
        InstanceSpec(
            service: service, blueprint: service, release: release,
            artifact: ArtifactReference(
                component: "datenplattform", sha256: String(repeating: "a", count: 64), url: nil,
                executable: "datenplattform"),
            arguments: [service],
            configFiles: [
                ConfigFile(
                    path: "\(service).yaml", mode: 0o600, content: "port: \(port)\ntoken: {{secret:t}}\n",
                    sha256: Digest.sha256("port: \(port)\ntoken: {{secret:t}}\n"))
            ],
            configDigest: "d-\(service)-\(port)",
            parameters: ["port": .value(String(port)), "token": .secret(name: "t", fingerprint: "f1")],
            ports: ["http": port],
            health: HealthCheckSpec(
                probe: .http(port: port, path: "/health", status: 200), intervalSeconds: 10, timeoutSeconds: 2,
                retries: 3, startPeriodSeconds: 0),
            migrations: nil, stopGraceSeconds: 10)
    }

    static func desired(_ node: String, environment: String = "sandbox", services: [String]) -> NodeDesiredState {
        NodeDesiredState(
            node: node, site: "site-\(node)", environment: environment, address: "127.0.9.\(node.count)",
            instances: services.map { instance($0) })
    }
}

extension Result where Failure == any Error {
    /// The outcome of an async throwing call, kept rather than thrown.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
