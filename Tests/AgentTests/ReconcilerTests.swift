import AgentCore
import Artifacts
import Crypto
import Database
import Foundation
import HTTPTransport
import StellwerkAPI
import TestSupport
import Testing

/// The agent converging a node with real artifacts, real processes and real files.
@Suite struct ReconcilerTests {
    /// A node's world: an artifact of the test service, a signing key, a data folder.
    struct Node {
        var data: URL
        var artifacts: URL
        var key = Curve25519.Signing.PrivateKey()
        var sha256: String
        var port: Int

        init() throws {
            let root = try Fixtures.temporaryFolder("stellwerk-node")
            data = root.appendingPathComponent("data")
            artifacts = root.appendingPathComponent("artifacts")
            try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            let content = root.appendingPathComponent("content/bin")
            try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-service"),
                to: content.appendingPathComponent("service"))
            let tar = root.appendingPathComponent("service.tar").path
            let status = try Spawn.run("/bin/tar", ["-cf", tar, "-C", content.deletingLastPathComponent().path, "bin"])
                .status
            guard status == 0 else { throw TestServerError("tar failed") }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: tar))
            sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            try bytes.write(to: artifacts.appendingPathComponent("\(sha256).tar"))
            port = try FreePort.find()
        }

        func instance(
            release: String = "r1", arguments extra: [String] = [], config: String = "greeting: hallo\n",
            migrations: MigrationSpec? = nil
        ) -> InstanceSpec {
            InstanceSpec(
                service: "catalog", blueprint: "catalog", release: release,
                artifact: ArtifactReference(
                    component: "datenplattform", sha256: sha256, url: nil, executable: "bin/service"),
                arguments: ["--host", "127.0.0.1", "--port", String(port), "--read", "catalog.yaml"] + extra,
                configFiles: [
                    ConfigFile(path: "catalog.yaml", mode: 0o600, content: config, sha256: String(config.hashValue))
                ],
                configDigest: String(repeating: "0", count: 52)
                    + String(format: "%012x", UInt64(bitPattern: Int64(config.hashValue ^ extra.hashValue))),
                parameters: [:], ports: ["http": port],
                health: HealthCheckSpec(
                    probe: .http(port: port, path: "/health", status: 200), intervalSeconds: 1, timeoutSeconds: 1,
                    retries: 5, startPeriodSeconds: 3),
                migrations: migrations, stopGraceSeconds: 2)
        }

        func desired(
            _ instances: [InstanceSpec], releases: [String]? = nil,
            signWith signer: Curve25519.Signing.PrivateKey? = nil
        )
            throws -> NodeDesiredState
        {
            let ids = releases ?? Array(Set(instances.map(\.release)))
            let manifests = try ids.map { id in
                try ReleaseSigner.sign(
                    ReleaseManifest(
                        id: id, version: id, revision: "test",
                        components: ["datenplattform": ComponentArtifact(sha256: sha256, size: 1, migrations: [])]),
                    privateKey: (signer ?? key).rawRepresentation)
            }
            return NodeDesiredState(
                node: "kl-sbx-1", site: "kaiserslautern", environment: "sandbox", address: "127.0.0.1",
                instances: instances,
                releases: manifests)
        }

        func reconciler(secrets: [String: String] = [:]) throws -> Reconciler {
            Reconciler(
                configuration: AgentConfiguration(
                    dataFolder: data, orchestratorKey: key.publicKey.rawRepresentation, artifactFolder: artifacts,
                    secrets: secrets),
                state: try AgentState(folder: data))
        }

        func runningPID() throws -> Int32? {
            try AgentState(folder: data).instances()["catalog"]?.process?.pid
        }

        func stopAll() async throws {
            for instance in try AgentState(folder: data).instances().values {
                if let process = instance.process { await StopProcess.stop(process, grace: .seconds(2)) }
            }
        }
    }

    @Test func install_update_noOp_andRemove() async throws {
        let node = try Node()
        let agent = try node.reconciler(secrets: ["token": "geheim"])
        let first = node.instance(config: "greeting: hallo\ntoken: {{secret:token}}\n")

        let installed = await agent.apply(try node.desired([first]))
        #expect(installed.instances.map(\.state) == [.running], "\(installed)")
        #expect(installed.instances.first?.lastError == nil)
        let pid = try #require(try node.runningPID())
        let current = node.data.appendingPathComponent("instances/catalog/current")
        let config = current.appendingPathComponent("catalog.yaml")
        #expect(try String(contentsOf: config, encoding: .utf8) == "greeting: hallo\ntoken: geheim\n")
        let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(installed.instances.first?.spec.configFiles.first?.content == "")  // reports carry no contents

        // The same desired state again: nothing restarts.
        let again = await agent.apply(try node.desired([first]))
        #expect(again.instances.map(\.state) == [.running])
        #expect(try node.runningPID() == pid)

        // A new config: a new process from a new release folder, the previous one kept for rollback.
        let second = node.instance(release: "r2", config: "greeting: moin\ntoken: {{secret:token}}\n")
        let updated = await agent.apply(try node.desired([second]))
        #expect(updated.instances.first?.lastError == nil, "\(updated)")
        let newPID = try #require(try node.runningPID())
        #expect(newPID != pid)
        #expect(ProcessIdentity.of(pid: pid) == nil)
        #expect(try String(contentsOf: config, encoding: .utf8) == "greeting: moin\ntoken: geheim\n")
        #expect(try AgentState(folder: node.data).instances()["catalog"]?.previous?.spec == first)

        // No longer desired: stopped, releases removed, data kept.
        let removed = await agent.apply(try node.desired([]))
        #expect(removed.instances.isEmpty)
        #expect(try AgentState(folder: node.data).instances().isEmpty)
        #expect(ProcessIdentity.of(pid: newPID)?.isRunning != true)
        #expect(FileManager.default.fileExists(atPath: node.data.appendingPathComponent("instances/catalog/data").path))
        #expect(
            !FileManager.default.fileExists(atPath: node.data.appendingPathComponent("instances/catalog/releases").path)
        )
    }

    @Test func update_thatFailsItsHealthCheck_bringsThePreviousReleaseBack() async throws {
        let node = try Node()
        let agent = try node.reconciler()
        _ = await agent.apply(try node.desired([node.instance()]))
        let pid = try #require(try node.runningPID())

        let broken = node.instance(release: "r2", arguments: ["--health", "503"])
        let report = await agent.apply(try node.desired([broken]))
        let instance = try #require(report.instances.first)
        #expect(instance.state == .running)
        #expect(instance.spec.release == "r1")
        // Its probes answered 503 until the retries ran out (or, on a loaded machine, the deadline).
        #expect(
            instance.lastError?.contains("r2 failed and was rolled back: not healthy after start: ") == true
                && instance.lastError?.hasSuffix("HTTP 503") == true, "\(report)")
        let restored = try #require(try node.runningPID())
        #expect(restored != pid)
        #expect(ProcessIdentity.of(pid: restored)?.isRunning == true)
        try await node.stopAll()
    }

    @Test func failingMigration_restoresTheDataByteForByte_andKeepsTheOldReleaseRunning() async throws {
        let node = try Node()
        let agent = try node.reconciler()
        let dataFile = node.data.appendingPathComponent("instances/catalog/data/records.txt")
        let v1 = node.instance(migrations: MigrationSpec(arguments: ["migrate"], backup: true, target: "0001"))
        _ = await agent.apply(try node.desired([v1]))
        let original = Data("datensatz 1\ndatensatz 2\n".utf8)
        try original.write(to: dataFile)
        let pid = try #require(try node.runningPID())

        let v2 = node.instance(
            release: "r2", config: "greeting: neu\n",
            migrations: MigrationSpec(
                arguments: ["migrate", "--append", "data/records.txt", "--text", "halb migriert\n", "--fail"],
                backup: true,
                target: "0002"))
        let report = await agent.apply(try node.desired([v2]))
        let instance = try #require(report.instances.first)
        #expect(
            instance.lastError?.contains("the migration exited with status 5; the data was restored from the backup")
                == true, "\(report)")
        #expect(instance.spec.release == "r1")
        #expect(try Data(contentsOf: dataFile) == original)
        #expect(try node.runningPID() == pid)
        #expect(ProcessIdentity.of(pid: pid)?.isRunning == true)
        try await node.stopAll()
    }

    @Test func goingBackPastAnIrreversibleMigration_restoresTheBackupFromBeforeIt() async throws {
        let node = try Node()
        let agent = try node.reconciler()
        let dataFile = node.data.appendingPathComponent("instances/catalog/data/records.txt")
        func migration(
            _ text: String, _ target: String, reversible: Bool = false, backup: Bool = true
        )
            -> MigrationSpec
        {
            MigrationSpec(
                arguments: ["migrate", "--append", "data/records.txt", "--text", text, "--once"], backup: backup,
                reversible: reversible, target: target)
        }
        _ = await agent.apply(try node.desired([node.instance(migrations: migration("v1\n", "0001"))]))
        let atFirst = Data("v1\nmesswert 1\n".utf8)
        try atFirst.write(to: dataFile)

        // Release 2 migrates to 0002 (not reversible), and the service writes more afterwards.
        let v2 = node.instance(release: "r2", config: "greeting: neu\n", migrations: migration("v2\n", "0002"))
        #expect(await agent.apply(try node.desired([v2])).instances.first?.spec.release == "r2")
        try Data("v1\nmesswert 1\nv2\nmesswert 2\n".utf8).write(to: dataFile)

        // Back to release 1: its migration would not know 0002, so the data returns to the copy taken
        // before 0002 ran, byte for byte, and release 1 runs on it.
        let back = await agent.apply(try node.desired([node.instance(migrations: migration("v1\n", "0001"))]))
        let instance = try #require(back.instances.first)
        #expect(instance.spec.release == "r1", "\(back)")
        #expect(instance.state == .running, "\(back)")
        #expect(try Data(contentsOf: dataFile) == atFirst)

        // Forward again, then back when no backup from before 0002 is kept: refused, data untouched.
        let v3 = node.instance(
            release: "r3", config: "greeting: ohne\n", migrations: migration("v3\n", "0002", backup: false))
        #expect(await agent.apply(try node.desired([v3])).instances.first?.spec.release == "r3")
        let backups = node.data.appendingPathComponent("instances/catalog/backups")
        for name in try FileManager.default.contentsOfDirectory(atPath: backups.path) {
            try FileManager.default.removeItem(at: backups.appendingPathComponent(name))
        }
        let migrated = try Data(contentsOf: dataFile)
        let refused = await agent.apply(try node.desired([node.instance(migrations: migration("v1\n", "0001"))]))
        #expect(refused.instances.first?.spec.release == "r3")
        #expect(
            refused.instances.first?.lastError?.contains(
                "0002 cannot be undone and no backup from 0001 is kept; the data stays at 0002") == true,
            "\(refused)")
        #expect(try Data(contentsOf: dataFile) == migrated)
        try await node.stopAll()
    }

    /// A PostgreSQL-backed service (issue #23): before a migration the agent dumps its database with
    /// pg_dump beside the copy of its data folder; the migration changes the database and fails, and
    /// pg_restore puts back exactly what was there — a plain dump byte for byte the same, the table
    /// the migration added gone. Backups beyond `keep_backups` go; the password is in no log.
    @Test(.enabled(if: PostgresServer.shouldRun, "needs PostgreSQL (the postgresql package)"))
    func postgresDatabase_isDumpedBeforeAMigration_andRestoredExactlyWhenItFails() async throws {
        let postgres = try await PostgresServer.shared()
        let url = try await postgres.createOwnedDatabase()
        _ = try await postgres.psql(
            "CREATE TABLE datasets (id serial PRIMARY KEY, name text); "
                + "INSERT INTO datasets (name) VALUES ('Pegel Trippstadt'), ('Parkhaus Mitte'); "
                + "COMMENT ON TABLE datasets IS 'Datensätze des Katalogs'", url: url)
        let node = try Node()
        let agent = try node.reconciler(secrets: ["catalog-db": url])
        func instance(
            _ release: String, target: String, sql: String? = nil, fail: Bool = false, health: Int = 200
        ) -> InstanceSpec {
            var spec = node.instance(
                release: release, arguments: health == 200 ? [] : ["--health", String(health)],
                config: "database: {{secret:catalog-db}}\n",
                migrations: MigrationSpec(
                    arguments: ["migrate"] + (sql.map { ["--sql", $0, "--database-from", "catalog.yaml"] } ?? [])
                        + (fail ? ["--fail"] : []), backup: true, target: target, databases: ["database"],
                    keepBackups: 2))
            spec.parameters = ["database": .secret(name: "catalog-db", fingerprint: "f1")]
            return spec
        }
        let first = await agent.apply(try node.desired([instance("r1", target: "0001")]))
        #expect(first.instances.first?.state == .running, "\(first)")
        let before = try await postgres.dump(url: url)

        let failed = await agent.apply(
            try node.desired([
                instance(
                    "r2", target: "0002",
                    sql: "ALTER TABLE datasets ADD COLUMN quelle text; UPDATE datasets SET name = 'kaputt'; "
                        + "CREATE TABLE halb (x int); INSERT INTO datasets (name) VALUES ('halb migriert')",
                    fail: true)
            ]))
        let report = try #require(failed.instances.first)
        #expect(report.spec.release == "r1", "\(failed)")
        #expect(
            report.lastError?.contains("the migration exited with status 5; the data was restored from the backup")
                == true, "\(failed)")
        #expect(try await postgres.dump(url: url) == before)
        // Migrated, but the release then fails its health check: rolled back, and so is the database.
        let unhealthy = await agent.apply(
            try node.desired([instance("r2b", target: "0002", sql: "DROP TABLE datasets", health: 500)]))
        #expect(
            unhealthy.instances.first?.lastError?.contains("r2b failed and was rolled back") == true, "\(unhealthy)")
        #expect(try await postgres.dump(url: url) == before)
        let backups = node.data.appendingPathComponent("instances/catalog/backups")
        func taken() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: backups.path).filter { Int($0) != nil }.sorted()
        }
        for backup in try taken() {
            let dump = backups.appendingPathComponent("\(backup).databases/database.dump")
            #expect(FileManager.default.fileExists(atPath: dump.path), "\(dump.path)")
        }

        // Two successful migrations later only the newest two backups (and their dumps) are kept.
        for (release, target) in [("r3", "0002"), ("r4", "0003")] {
            let done = await agent.apply(
                try node.desired([instance(release, target: target, sql: "CREATE TABLE t\(target) (x int)")]))
            #expect(done.instances.first?.spec.release == release, "\(done)")
        }
        #expect(try taken().count == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: backups.path)
        #expect(leftovers.filter { $0.hasSuffix(".databases") }.count == 2, "\(leftovers)")
        #expect(leftovers.filter { $0.hasSuffix(".migration") }.count == 2, "\(leftovers)")
        #expect(try await postgres.psql("SELECT count(*) FROM t0003", url: url).hasPrefix("0"))
        // The password went to the tools in their environment, never into a log or a report.
        let password = try #require(URLComponents(string: url)?.password)
        let logs = node.data.appendingPathComponent("instances/catalog/logs")
        for name in try FileManager.default.contentsOfDirectory(atPath: logs.path) {
            let text = try String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains(password), "\(name)")
        }
        #expect(!"\(failed)".contains(password))
        try await node.stopAll()
    }

    /// A database reached as a superuser cannot be restored exactly (its role owns the system's
    /// objects too): refused before the migration, with what to do, and the data is untouched.
    @Test(.enabled(if: PostgresServer.shouldRun, "needs PostgreSQL (the postgresql package)"))
    func postgresDatabase_reachedAsASuperuser_isRefusedBeforeTheMigration() async throws {
        let postgres = try await PostgresServer.shared()
        let url = try await postgres.createDatabase()
        let node = try Node()
        let agent = try node.reconciler(secrets: ["catalog-db": url])
        var spec = node.instance(
            config: "database: {{secret:catalog-db}}\n",
            migrations: MigrationSpec(
                arguments: ["migrate", "--sql", "CREATE TABLE nie (x int)", "--database-from", "catalog.yaml"],
                backup: true, target: "0001", databases: ["database"]))
        spec.parameters = ["database": .secret(name: "catalog-db", fingerprint: "f1")]
        let report = await agent.apply(try node.desired([spec]))
        #expect(
            report.instances.first?.lastError?.contains(
                "is reached as a superuser: a restore could not tell the service's objects from the system's") == true,
            "\(report)")
        #expect(
            try await postgres.psql(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'nie'",
                database: String(url.split(separator: "/").last ?? "")
            ).hasPrefix("0"))
        try await node.stopAll()
    }

    @Test func tamperedArtifactOrManifest_isRefusedAndChangesNothing() async throws {
        let node = try Node()
        let agent = try node.reconciler()

        let foreign = Curve25519.Signing.PrivateKey()
        let unsigned = await agent.apply(try node.desired([node.instance()], signWith: foreign))
        #expect(
            unsigned.instances.first?.lastError?.contains(
                "does not match: the manifest was altered or signed by another key") == true)
        let missing = await agent.apply(try node.desired([node.instance()], releases: []))
        #expect(missing.instances.first?.lastError?.contains("comes without a signed manifest") == true)

        let path = node.artifacts.appendingPathComponent("\(node.sha256).tar")
        var bytes = try Data(contentsOf: path)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: path)
        let tampered = await agent.apply(try node.desired([node.instance()]))
        #expect(tampered.instances.first?.lastError?.contains("was altered or damaged") == true, "\(tampered)")
        #expect(try AgentState(folder: node.data).instances().isEmpty)
        #expect(
            !FileManager.default.fileExists(
                atPath: node.data.appendingPathComponent(
                    "instances/catalog/releases/r1-\(String(node.instance().configDigest.prefix(12)))"
                ).path))
    }

    @Test func crashedProcess_isStartedAgainOnTheNextApply() async throws {
        let node = try Node()
        let agent = try node.reconciler()
        let spec = node.instance()
        _ = await agent.apply(try node.desired([spec]))
        let pid = try #require(try node.runningPID())
        kill(pid, SIGKILL)
        _ = await StopProcess.waitForExit(
            ProcessIdentity.of(pid: pid) ?? ProcessIdentity(pid: pid, startTime: 0), within: .seconds(2))
        let report = await agent.apply(try node.desired([spec]))
        #expect(report.instances.map(\.state) == [.running])
        let restarted = try #require(try node.runningPID())
        #expect(restarted != pid)
        try await node.stopAll()
    }
}

extension ReconcilerTests {
    @Test func agentApply_asACommand_convergesAndReportsJSON() async throws {
        let node = try Node()
        let folder = node.data.deletingLastPathComponent()
        let keyFile = folder.appendingPathComponent("orchestrator.pub")
        try Data(node.key.publicKey.rawRepresentation.base64EncodedString().utf8).write(to: keyFile)
        let encoder = JSONEncoder()
        func write(_ state: NodeDesiredState) throws -> String {
            let path = folder.appendingPathComponent("desired-\(UUID().uuidString).json").path
            try encoder.encode(state).write(to: URL(fileURLWithPath: path))
            return path
        }
        let common = ["--data", node.data.path, "--orchestrator-key", keyFile.path, "--artifacts", node.artifacts.path]

        let installed = try await ProcessRunner.run(
            "stellwerk-agent", ["apply", "--desired", try write(try node.desired([node.instance()]))] + common)
        #expect(installed.status == 0, "\(installed.standardError)")
        let report = try JSONDecoder().decode(NodeReport.self, from: Data(installed.standardOutput.utf8))
        #expect(report.instances.map(\.state) == [.running])
        #expect(report.instances.first?.health == "HTTP 200")

        let broken = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "apply", "--desired",
                try write(try node.desired([node.instance(release: "r2", arguments: ["--health", "503"])])),
            ] + common)
        #expect(broken.status == 1)
        #expect(broken.standardOutput.contains("rolled back"))

        let removed = try await ProcessRunner.run(
            "stellwerk-agent", ["apply", "--desired", try write(try node.desired([]))] + common)
        #expect(removed.status == 0)

        let wrongKey = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "apply", "--desired", try write(try node.desired([])), "--data", node.data.path,
                "--orchestrator-key", "/nonexistent", "--artifacts", node.artifacts.path,
            ])
        #expect(wrongKey.status == 64)
        #expect(wrongKey.standardError.contains("does not hold a base64 Ed25519 public key"))
    }
}

/// The agent killed with SIGKILL at each step of an update: the next apply converges.
/// A node driven as an offline agent drives it (`stellwerk-agent apply --desired FILE`), and the
/// test agent that can be killed at a journal step.
struct OfflineNode {
    let node: ReconcilerTests.Node
    let folder: URL
    let common: [String]

    init() throws {
        node = try ReconcilerTests.Node()
        folder = node.data.deletingLastPathComponent()
        let keyFile = folder.appendingPathComponent("orchestrator.pub")
        try Data(node.key.publicKey.rawRepresentation.base64EncodedString().utf8).write(to: keyFile)
        common = ["--data", node.data.path, "--orchestrator-key", keyFile.path, "--artifacts", node.artifacts.path]
    }

    /// The desired state running `specs` (none: nothing), as a file.
    func desiredFile(_ specs: [InstanceSpec], name: String) throws -> String {
        let path = folder.appendingPathComponent("desired-\(name).json").path
        try JSONEncoder().encode(try node.desired(specs)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func desiredFile(_ spec: InstanceSpec) throws -> String { try desiredFile([spec], name: spec.release) }

    /// `stellwerk-agent apply` of `spec`.
    func apply(_ spec: InstanceSpec) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run("stellwerk-agent", ["apply", "--desired", try desiredFile(spec)] + common)
    }

    /// Runs the test agent on `spec` until it journals `step`, calls `atStep` there, and kills it.
    func kill(applying spec: InstanceSpec, at step: String, atStep: () throws -> Void = {}) async throws {
        let agent = try Spawn.run(
            ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-agent").path,
            ["apply", "--desired", try desiredFile(spec)] + common + ["--pause-at", step], wait: false
        ).pid
        let marker = node.data.appendingPathComponent("paused-at-\(step)").path
        try await waitUntil("the agent to reach \(step)") { FileManager.default.fileExists(atPath: marker) }
        try atStep()
        Glibc.kill(agent, SIGKILL)
        var status: Int32 = 0
        waitpid(agent, &status, 0)
        try FileManager.default.removeItem(atPath: marker)
    }

    /// Stops everything: an empty desired state.
    func stopAll() async throws {
        _ = try await ProcessRunner.run(
            "stellwerk-agent", ["apply", "--desired", try desiredFile([], name: "empty")] + common)
    }
}

/// Install-time health probing starts after 10 ms and backs off (issue #19): a service ready 50 ms
/// after it starts is seen ready soon after, where a once-a-second probe took a whole second.
@Suite struct FastHealthTests {
    @Test func aServiceReadyIn50ms_isReportedHealthyWellUnderASecondLater() async throws {
        let offline = try OfflineNode()
        let node = offline.node
        let readyFile = offline.folder.appendingPathComponent("ready")
        var spec = node.instance(arguments: ["--healthy-after", "0.05", "--ready-file", readyFile.path])
        spec.health.startPeriodSeconds = 0
        let applied = try await offline.apply(spec)
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        // Both times from the agent's own process and the service's, not this busy test process.
        let ready = try #require(Double(try String(contentsOf: readyFile, encoding: .utf8)))
        let state = try AgentState(folder: node.data)
        let started = try #require(try state.lastTime(of: "start", service: "catalog"))
        let running = try #require(try state.lastTime(of: "running", service: "catalog"))
        // The pause before the probe that sees it is at most about the time probing took until then
        // (50 ms, more when a busy machine started the process late); a fixed second is far more.
        let late = running.timeIntervalSince1970 - ready
        #expect(late < 0.25 + max(0, ready - started.timeIntervalSince1970), "seen \(Int(late * 1000)) ms late")
        try await offline.stopAll()
    }
}

@Suite struct AgentKilledMidUpdateTests {
    static let steps = ["verify", "fetch", "unpack", "render", "backup", "migrate", "stop-old", "started", "running"]

    /// Processes whose command line holds `--port PORT`: the instances of one node's service.
    private func processes(port: Int) -> [Int32] { processes(holding: ["--port\u{0}\(port)\u{0}"]) }

    @Test(arguments: steps)
    func agentKilledAt_step_convergesOnTheNextApply(step: String) async throws {
        let offline = try OfflineNode()
        let node = offline.node
        func migration(_ text: String, target: String) -> MigrationSpec {
            MigrationSpec(
                arguments: ["migrate", "--append", "data/records.txt", "--text", text, "--once"], backup: true,
                target: target)
        }
        let v1 = node.instance(migrations: migration("v1\n", target: "0001"))
        let v2 = node.instance(release: "r2", config: "greeting: neu\n", migrations: migration("v2\n", target: "0002"))

        let first = try await offline.apply(v1)
        #expect(first.status == 0, "\(first.standardOutput)")
        let records = node.data.appendingPathComponent("instances/catalog/data/records.txt")
        let original = Data("datensatz 1\nv1\n".utf8)
        try original.write(to: records)

        // Update to v2, and kill the agent when it reaches the step.
        try await offline.kill(applying: v2, at: step) {
            guard step == "migrate" else { return }
            // As if the migration had half run when the power went.
            let handle = try FileHandle(forWritingTo: records)
            handle.seekToEndOfFile()
            handle.write(Data("halb\n".utf8))
            try handle.close()
        }

        let next = try await offline.apply(v2)
        #expect(next.status == 0, "\(next.standardOutput)\(next.standardError)")
        let report = try JSONDecoder().decode(NodeReport.self, from: Data(next.standardOutput.utf8))
        #expect(report.instances.map(\.spec.release) == ["r2"])
        #expect(report.instances.map(\.state) == [.running])

        // Exactly one process, the recorded one; the current release is v2; the data migrated once.
        let running = processes(port: node.port)
        let recorded = try AgentState(folder: node.data).instances()["catalog"]?.process
        #expect(
            running == [recorded?.pid].compactMap { $0 }, "running \(running), recorded \(String(describing: recorded))"
        )
        let current = try FileManager.default.destinationOfSymbolicLink(
            atPath: node.data.appendingPathComponent("instances/catalog/current").path)
        #expect(current.hasPrefix("releases/r2-"))
        #expect(try String(contentsOf: records, encoding: .utf8) == "datensatz 1\nv1\nv2\n")
        let partials = try FileManager.default.contentsOfDirectory(
            atPath: node.data.appendingPathComponent("instances/catalog/releases").path
        ).filter { $0.contains(".partial-") }
        #expect(partials.isEmpty)

        try await offline.stopAll()
        #expect(processes(port: node.port).isEmpty)
    }

    /// The migration leads a session of its own, so it outlived an agent killed while it ran, and
    /// the restarted agent migrated a second time beside it (issue #17, scenario 1). Now the agent
    /// journals the migration's process, stops that group when it finds it still running, restores
    /// the backup, and migrates exactly once.
    /// `journaled: false`: the agent was killed after it started the migration but before it could
    /// journal the migration's process. Nothing records the orphan then; it still holds the
    /// instance's migration lock, and the restarted agent finds and stops it by that.
    @Test(arguments: [true, false])
    func agentKilledDuringALongMigration_stopsTheOrphan_andMigratesOnce(journaled: Bool) async throws {
        let offline = try OfflineNode()
        let node = offline.node
        let v1 = node.instance(
            migrations: MigrationSpec(
                arguments: ["migrate", "--append", "data/records.txt", "--text", "v1\n", "--once"], backup: true,
                target: "0001"))
        // The first run of the migration takes half a minute (while `slow` exists); a later one is quick.
        let slow = offline.folder.appendingPathComponent("slow-migration")
        try Data().write(to: slow)
        let v2 = node.instance(
            release: "r2", config: "greeting: neu\n",
            migrations: MigrationSpec(
                arguments: [
                    "migrate", "--append", "data/records.txt", "--text", "v2\n", "--once", "--sleep", "30",
                    "--sleep-if-exists", slow.path,
                ], backup: true, target: "0002"))
        #expect(try await offline.apply(v1).status == 0)
        let records = node.data.appendingPathComponent("instances/catalog/data/records.txt")
        try Data("datensatz 1\nv1\n".utf8).write(to: records)

        // The agent is killed while the long migration to v2 runs; the migration goes on without it.
        try await offline.kill(applying: v2, at: "migrating")
        if !journaled {
            let journal = try SQLiteConnection(
                path: node.data.appendingPathComponent("agent.sqlite").path, create: false)
            try journal.execute("DELETE FROM journal WHERE step = 'migrating'", [])
            journal.close()
        }
        // Its command line is told apart by the text it appends and by its own marker file.
        let orphans = { self.processes(holding: ["migrate", "v2\n", slow.path]) }
        #expect(!orphans().isEmpty, "the migration should still run without its agent")
        try FileManager.default.removeItem(at: slow)

        let next = try await offline.apply(v2)
        #expect(next.status == 0, "\(next.standardOutput)\(next.standardError)")
        // Well before its own half minute is over, the orphan is gone: the agent stopped it, and the
        // data holds v2 once.
        #expect(orphans().isEmpty)
        #expect(try String(contentsOf: records, encoding: .utf8) == "datensatz 1\nv1\nv2\n")
        try await offline.stopAll()
    }

    /// Killed during the health wait of a release that migrated, the agent used to take its next
    /// backup under the old migration's label while the data inside was already migrated; a rollback
    /// past the irreversible migration then "restored" the newer data and started older code on it
    /// (issue #17, scenario 2). Now the data carries its migration, a backup is labelled by what is
    /// inside it, and a copy whose inside disagrees with its label is refused.
    @Test func backupLabels_sayTheMigrationInside_andARollbackRefusesACopyThatDisagrees() async throws {
        let offline = try OfflineNode()
        let node = offline.node
        func release(_ name: String, _ target: String, _ text: String) -> InstanceSpec {
            node.instance(
                release: name, config: "greeting: \(name)\n",
                migrations: MigrationSpec(
                    arguments: ["migrate", "--append", "data/records.txt", "--text", text, "--once"], backup: true,
                    reversible: false, target: target))
        }
        let r3 = release("r3", "0003", "v3\n")
        let r4 = release("r4", "0004", "v4\n")
        func apply(_ spec: InstanceSpec) async throws -> NodeReport {
            try JSONDecoder().decode(NodeReport.self, from: Data(try await offline.apply(spec).standardOutput.utf8))
        }
        _ = try await apply(r3)
        let records = node.data.appendingPathComponent("instances/catalog/data/records.txt")
        #expect(try String(contentsOf: records, encoding: .utf8) == "v3\n")

        // r4 migrates to 0004; the agent is killed while it waits for r4 to be healthy, and converges later.
        try await offline.kill(applying: r4, at: "started")
        #expect(try await apply(r4).instances.map(\.spec.release) == ["r4"])
        #expect(try String(contentsOf: records, encoding: .utf8) == "v3\nv4\n")
        // Every backup's label is the migration its data is at.
        let backups = node.data.appendingPathComponent("instances/catalog/backups")
        for name in try FileManager.default.contentsOfDirectory(atPath: backups.path) where name.hasSuffix(".migration")
        {
            let label = try String(contentsOf: backups.appendingPathComponent(name), encoding: .utf8)
            let inside = try? String(
                contentsOf: backups.appendingPathComponent(String(name.dropLast(10))).appendingPathComponent(
                    "records.txt"), encoding: .utf8)
            let expected = ["none": nil, "0003": "v3\n", "0004": "v3\nv4\n"][label]
            #expect(expected != nil && inside == expected!, "\(name): \(label) holds \(inside ?? "nothing")")
        }
        // The copies hold the service's data: only the agent's user may read them.
        for folder in [backups.path]
            + (try FileManager.default.contentsOfDirectory(atPath: backups.path))
            .filter({ !$0.hasSuffix(".migration") }).map({ backups.appendingPathComponent($0).path })
        {
            let mode = try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int
            #expect(mode.map { $0 & 0o777 } == 0o700, "\(folder)")
        }

        // Back to r3: the copy from before 0004 comes back, and r3 runs on data it knows.
        let back = try await apply(r3)
        #expect(back.instances.map(\.spec.release) == ["r3"] && back.instances.map(\.state) == [.running], "\(back)")
        #expect(try String(contentsOf: records, encoding: .utf8) == "v3\n")

        // A copy that lies about what it holds (as agents before this one could leave) is refused,
        // and nothing changes.
        #expect(try await apply(r4).instances.map(\.spec.release) == ["r4"])
        for name in try FileManager.default.contentsOfDirectory(atPath: backups.path) {
            try FileManager.default.removeItem(at: backups.appendingPathComponent(name))
        }
        let liar = backups.appendingPathComponent("1")
        try FileManager.default.copyItem(at: node.data.appendingPathComponent("instances/catalog/data"), to: liar)
        try Data("0003".utf8).write(to: backups.appendingPathComponent("1.migration"))
        let refused = try await apply(r3)
        #expect(refused.instances.map(\.spec.release) == ["r4"], "\(refused)")
        #expect(
            refused.instances.first?.lastError?.contains(
                "the newest backup labelled 0003 (1) holds data at migration 0004; refusing to start release r3")
                == true,
            "\(refused)")
        #expect(try String(contentsOf: records, encoding: .utf8) == "v3\nv4\n")
        try await offline.stopAll()
    }

    /// Processes whose command line holds every one of `parts`.
    private func processes(holding parts: [String]) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            let line = String(decoding: data, as: UTF8.self)
            return parts.allSatisfy(line.contains) && ProcessIdentity.of(pid: pid)?.isRunning == true ? pid : nil
        }
    }
}

/// `stellwerk-agent run`: supervision between applies, and stopping the agent without its services.
@Suite struct AgentDaemonTests {
    private func startAgent(_ node: ReconcilerTests.Node, _ spec: InstanceSpec, extra: [String] = []) throws -> pid_t {
        let folder = node.data.deletingLastPathComponent()
        let keyFile = folder.appendingPathComponent("orchestrator.pub")
        try Data(node.key.publicKey.rawRepresentation.base64EncodedString().utf8).write(to: keyFile)
        let desired = folder.appendingPathComponent("desired.json")
        try JSONEncoder().encode(try node.desired([spec])).write(to: desired)
        return try Spawn.run(
            ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
            [
                "run", "--desired", desired.path, "--data", node.data.path, "--orchestrator-key", keyFile.path,
                "--artifacts", node.artifacts.path,
            ] + extra,
            standardOutput: folder.appendingPathComponent("agent.log").path, wait: false
        ).pid
    }

    private func report(_ node: ReconcilerTests.Node) -> NodeReport? {
        FileManager.default.contents(atPath: node.data.appendingPathComponent("report.json").path)
            .flatMap { try? JSONDecoder().decode(NodeReport.self, from: $0) }
    }

    private func waitFor(_ what: String, seconds: Int = 60, _ condition: () throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        while clock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
    }

    private func stopAgent(_ pid: pid_t, signal: Int32 = SIGTERM) -> Int32 {
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status >> 8) & 0xff
    }

    @Test func crashingService_isRestartedWithBackoffThenReportedCrashLooping() async throws {
        let node = try ReconcilerTests.Node()
        let agent = try startAgent(
            node, node.instance(arguments: ["--crash-after", "1"]), extra: ["--crash-loop-restarts", "2"])
        try await waitFor("the crash-looping state") {
            report(node)?.instances.first?.state == .crashLooping
        }
        if report(node)?.instances.first?.state != .crashLooping {
            let folder = node.data.deletingLastPathComponent()
            Issue.record(
                """
                agent log: \((try? String(contentsOf: folder.appendingPathComponent("agent.log"), encoding: .utf8)) ?? "")
                report: \((try? String(contentsOf: node.data.appendingPathComponent("report.json"), encoding: .utf8)) ?? "")
                """)
        }
        #expect(stopAgent(agent) == 0)
        let restarts = try AgentState(folder: node.data).steps(since: "running", of: "catalog").filter {
            $0.step == "restarted"
        }
        #expect(restarts.count >= 2)
        #expect(report(node)?.instances.first?.lastError?.contains("restarting in") == true)
        try await node.stopAll()
    }

    @Test func stoppingTheAgent_leavesServicesRunning_andARestartedAgentAdoptsThem() async throws {
        let node = try ReconcilerTests.Node()
        let spec = node.instance()
        let first = try startAgent(node, spec)
        try await waitFor("the first report") { report(node)?.instances.first?.state == .running }
        let pid = try #require(try node.runningPID())
        #expect(stopAgent(first) == 0)
        #expect(ProcessIdentity.of(pid: pid)?.isRunning == true)

        try FileManager.default.removeItem(at: node.data.appendingPathComponent("report.json"))
        let second = try startAgent(node, spec, extra: ["--stop-services"])
        try await waitFor("the second report") { report(node)?.instances.first?.state == .running }
        #expect(try node.runningPID() == pid)
        #expect(stopAgent(second) == 0)
        try await waitFor("the service to stop", seconds: 20) { ProcessIdentity.of(pid: pid)?.isRunning != true }
    }
}

extension AgentDaemonTests {
    @Test func serviceThatTurnsUnhealthy_isReportedUnhealthyWhileItRuns() async throws {
        let node = try ReconcilerTests.Node()
        var spec = node.instance(arguments: ["--unhealthy-after", "2"])
        spec.health.intervalSeconds = 1
        spec.health.retries = 1
        let agent = try startAgent(node, spec)
        try await waitFor("the unhealthy state") { report(node)?.instances.first?.state == .unhealthy }
        #expect(report(node)?.instances.first?.health == "HTTP 503")
        #expect(try node.runningPID().map { ProcessIdentity.of(pid: $0)?.isRunning == true } == true)
        #expect(stopAgent(agent) == 0)
        try await node.stopAll()
    }
}

extension ReconcilerTests {
    @Test func configEditedBehindTheAgentsBack_isReportedAsDrift() async throws {
        let node = try Node()
        let agent = try node.reconciler()
        let spec = node.instance()
        _ = await agent.apply(try node.desired([spec]))
        let config = node.data.appendingPathComponent("instances/catalog/current/catalog.yaml")
        #expect(await agent.apply(try node.desired([spec])).instances.first?.drift == [])
        try Data("greeting: von Hand geändert\n".utf8).write(to: config)
        #expect(await agent.apply(try node.desired([spec])).instances.first?.drift == ["catalog.yaml"])
        try await node.stopAll()
    }

    @Test func logRotation_keepsThreeCopiesAndEmptiesTheLog() throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-logs")
        let log = folder.appendingPathComponent("catalog.log")
        for round in 1...4 {
            try Data(String(repeating: "\(round)", count: 2048).utf8).write(to: log)
            LogRotation.rotateIfNeeded(log, maxBytes: 1024, keep: 3)
            #expect((try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int) == 0)
        }
        #expect(try String(contentsOf: folder.appendingPathComponent("catalog.log.1"), encoding: .utf8).hasPrefix("4"))
        #expect(try String(contentsOf: folder.appendingPathComponent("catalog.log.3"), encoding: .utf8).hasPrefix("2"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("catalog.log.4").path))
        LogRotation.rotateIfNeeded(log, maxBytes: 1024, keep: 3)  // small: left alone
        #expect(try String(contentsOf: folder.appendingPathComponent("catalog.log.1"), encoding: .utf8).hasPrefix("4"))
    }
}

extension ReconcilerTests {
    @Test(.enabled(if: getuid() == 0, "only root can run a service as another user"))
    func service_withAUser_runsAsThatUserAndCanReadItsSecretConfig() async throws {
        let node = try Node()
        let agent = try node.reconciler(secrets: ["token": "geheim"])
        var spec = node.instance(config: "token: {{secret:token}}\n")
        spec.user = "nobody"
        let report = await agent.apply(try node.desired([spec]))
        #expect(report.instances.first?.state == .running, "\(report)")
        let pid = try #require(try node.runningPID())
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().first
        #expect(uid.map(String.init) == String(getpwnam("nobody").pointee.pw_uid))
        let config = node.data.appendingPathComponent("instances/catalog/current/catalog.yaml").path
        let attributes = try FileManager.default.attributesOfItem(atPath: config)
        #expect(attributes[.ownerAccountName] as? String == "nobody")
        #expect(attributes[.posixPermissions] as? Int == 0o600)

        var missing = node.instance(release: "r2")
        missing.user = "stellwerk-no-such-user"
        let refused = await agent.apply(try node.desired([missing]))
        #expect(refused.instances.first?.lastError?.contains("the user 'stellwerk-no-such-user'") == true, "\(refused)")
        try await node.stopAll()
    }
}

extension ReconcilerTests {
    @Test func unhealthyReleaseAfterASuccessfulMigration_getsItsDataBackByteForByte() async throws {
        let node = try Node()
        let agent = try node.reconciler()
        let records = node.data.appendingPathComponent("instances/catalog/data/records.txt")
        _ = await agent.apply(
            try node.desired([
                node.instance(migrations: MigrationSpec(arguments: ["migrate"], backup: true, target: "0001"))
            ]))
        let original = Data("datensatz 1\n".utf8)
        try original.write(to: records)

        let v2 = node.instance(
            release: "r2", arguments: ["--health", "503"],
            migrations: MigrationSpec(
                arguments: ["migrate", "--append", "data/records.txt", "--text", "v2\n"], backup: true, target: "0002"))
        let report = await agent.apply(try node.desired([v2]))
        #expect(report.instances.first?.spec.release == "r1")
        #expect(report.instances.first?.lastError?.contains("rolled back") == true, "\(report)")
        #expect(try Data(contentsOf: records) == original)
        try await node.stopAll()
    }
}

extension AgentDaemonTests {
    @Test func metrics_countConvergencesAndInstancesByState() async throws {
        let node = try ReconcilerTests.Node()
        // An address of its own: a port found free on 127.0.0.1 could be taken by a parallel test
        // before the agent binds it.
        let host = "127.0.58.1"
        let port = try FreePort.find(host: host)
        let agent = try startAgent(node, node.instance(), extra: ["--metrics", "\(host):\(port)"])
        try await waitFor("the first report") { report(node)?.instances.first?.state == .running }
        let http = HTTPExchange()
        // The metrics server binds beside the first convergence; on a loaded machine it may come a
        // moment after the first report.
        var answer: HTTPAnswer?
        let deadline = ContinuousClock.now + .seconds(60)
        while answer == nil, ContinuousClock.now < deadline {
            answer = try? await http.fetch("http://\(host):\(port)/metrics", timeout: .seconds(10))
            if answer == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let log =
            (try? String(
                contentsOf: node.data.deletingLastPathComponent().appendingPathComponent("agent.log"), encoding: .utf8))
            ?? ""
        let metrics = try #require(answer, "no answer from /metrics; the agent's log: \(log)")
        #expect(metrics.status == 200)
        let text = metrics.text
        #expect(text.contains("stellwerk_agent_convergences_total{outcome=\"converged\"} 1"), "\(text)")
        #expect(text.contains("stellwerk_agent_instances{state=\"running\"} 1"), "\(text)")
        #expect(text.contains("stellwerk_agent_convergence_seconds_count 1"), "\(text)")
        let missing = try await http.fetch("http://\(host):\(port)/nothing", timeout: .seconds(10))
        #expect(missing.status == 404)
        http.closeIdleConnections()
        #expect(stopAgent(agent) == 0)
        try await node.stopAll()
    }

    @Test(arguments: ["0.0.0.0:9464", "192.0.2.1:9464", "127.0.0.1:0", "127.0.0.1", "127.0.0.300:9464"])
    func metrics_offLoopbackOrMalformed_isRefusedBeforeAnythingRuns(address: String) async throws {
        let node = try ReconcilerTests.Node()
        let agent = try startAgent(node, node.instance(), extra: ["--metrics", address])
        let status = try await offloaded {
            var status: Int32 = 0
            waitpid(agent, &status, 0)
            return status
        }
        #expect(status & 0x7f == 0 && (status >> 8) & 0xff != 0, "wait status \(status)")
        let log = try String(
            contentsOf: node.data.deletingLastPathComponent().appendingPathComponent("agent.log"), encoding: .utf8)
        #expect(log.contains("--metrics \(address)"), "\(log)")
        #expect(report(node) == nil, "the agent converged although its options were wrong")
        #expect(try node.runningPID() == nil)
    }
}

/// Instances of a node converge side by side, each after the ones on its node it depends on.
@Suite struct ConvergenceOrderTests {
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [String] = []
        private var running = 0
        private(set) var mostAtOnce = 0

        func begin(_ service: String) {
            lock.withLock {
                events.append("begin \(service)")
                running += 1
                mostAtOnce = max(mostAtOnce, running)
            }
        }

        func end(_ service: String) {
            lock.withLock {
                events.append("end \(service)")
                running -= 1
            }
        }

        var all: [String] { lock.withLock { events } }

        func began(_ service: String) -> Bool { lock.withLock { events.contains("begin \(service)") } }
    }

    private func spec(_ service: String) -> InstanceSpec {
        InstanceSpec(
            service: service, blueprint: service, release: "r1",
            artifact: ArtifactReference(component: "x", sha256: nil, url: nil, executable: "bin/x"), arguments: [],
            configFiles: [], configDigest: "", parameters: [:], ports: [:],
            health: HealthCheckSpec(
                probe: .tcp(port: 1), intervalSeconds: 1, timeoutSeconds: 1, retries: 1, startPeriodSeconds: 0),
            migrations: nil, stopGraceSeconds: 1)
    }

    @Test func dependenciesFirst_othersSideBySide_boundedAndEveryOneRun() async {
        let log = Log()
        let specs = ["broker", "catalog", "portal", "sensors", "visualization", "extra"].map(spec)
        let outcomes = await Reconciler.inDependencyOrder(
            specs, startsAfter: ["sensors": ["broker"], "visualization": ["sensors", "gone"]], atOnce: 3
        ) { spec in
            log.begin(spec.service)
            // Two that depend on nothing each wait for the other to begin: they only get past this
            // if they run side by side.
            if let other = ["catalog": "portal", "portal": "catalog"][spec.service] {
                try? await waitUntil(
                    "\(other) to begin beside \(spec.service)", within: .seconds(10), every: .milliseconds(5)
                ) {
                    log.began(other)
                }
            }
            log.end(spec.service)
            return spec.service.count
        }
        #expect(outcomes.count == 6)
        #expect(outcomes["visualization"] == 13)
        let events = log.all
        func index(_ event: String) -> Int { events.firstIndex(of: event) ?? -1 }
        #expect(index("end broker") < index("begin sensors"), "\(events)")
        #expect(index("end sensors") < index("begin visualization"), "\(events)")
        // Independent ones overlap, but never more than three at once.
        #expect(
            index("begin portal") < index("end catalog") && index("begin catalog") < index("end portal"), "\(events)")
        #expect(log.mostAtOnce > 1 && log.mostAtOnce <= 3, "\(log.mostAtOnce)")
    }

    @Test func aCycle_stillRunsEveryInstance_oneByOne() async {
        let outcomes = await Reconciler.inDependencyOrder(
            ["a", "b"].map(spec), startsAfter: ["a": ["b"], "b": ["a"]], atOnce: 4
        ) { $0.service }
        #expect(outcomes == ["a": "a", "b": "b"])
    }
}
