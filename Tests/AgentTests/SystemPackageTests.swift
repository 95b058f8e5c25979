import AgentCore
import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// Components from the node's Debian packages (Mosquitto): the agent checks dpkg's own records before
/// it touches anything, runs the package's program in place, and writes passwords as Mosquitto wants them.
@Suite struct SystemPackageTests {
    /// A dpkg database in a temporary folder: `status` and `info/<package>.list`, as dpkg keeps them.
    static func packageDatabase(installed: [String: [String]]) throws -> URL {
        let folder = try Fixtures.temporaryFolder("stellwerk-dpkg")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("info"), withIntermediateDirectories: true)
        var status = "Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n"
        status += "Package: mosquitto\nStatus: deinstall ok config-files\nVersion: 2.0.11\n\n"
        for (package, files) in installed.sorted(by: { $0.key < $1.key }) {
            status += "Package: \(package)\nStatus: install ok installed\nArchitecture: amd64\n\n"
            try (["/."] + files).joined(separator: "\n").write(
                to: folder.appendingPathComponent("info/\(package):amd64.list"), atomically: true, encoding: .utf8)
        }
        try status.write(to: folder.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        return folder
    }

    /// The test service as a package's program: an absolute path, nothing to download.
    static func instance(package: String, executable: String, port: Int) -> InstanceSpec {
        InstanceSpec(
            service: "mqtt-broker", blueprint: "mqtt-broker", release: "r1",
            artifact: ArtifactReference(
                component: "package:\(package)", sha256: nil, url: nil, executable: executable, package: package),
            arguments: ["--host", "127.0.0.1", "--port", String(port), "--read", "broker.conf"],
            configFiles: [ConfigFile(path: "broker.conf", mode: 0o600, content: "greeting: moin\n", sha256: "x")],
            configDigest: String(repeating: "1", count: 64), parameters: [:], ports: ["mqtt": port],
            health: HealthCheckSpec(
                probe: .http(port: port, path: "/health", status: 200), intervalSeconds: 1, timeoutSeconds: 1,
                retries: 5, startPeriodSeconds: 3),
            migrations: nil, stopGraceSeconds: 2)
    }

    func apply(
        _ spec: InstanceSpec, database: URL
    ) async throws -> (report: NodeReport, data: URL, node: ReconcilerTests.Node) {
        let node = try ReconcilerTests.Node()
        let agent = Reconciler(
            configuration: AgentConfiguration(
                dataFolder: node.data, orchestratorKey: node.key.publicKey.rawRepresentation,
                artifactFolder: node.artifacts, packageDatabase: database),
            state: try AgentState(folder: node.data))
        let report = await agent.apply(try node.desired([spec]))
        return (report, node.data, node)
    }

    @Test func packageNotInstalled_isRefusedNamingThePackageAndTheNode_andNothingStarts() async throws {
        let database = try Self.packageDatabase(installed: [:])
        let (report, data, _) = try await apply(
            Self.instance(package: "mosquitto", executable: "/usr/sbin/mosquitto", port: try FreePort.find()),
            database: database)
        let instance = try #require(report.instances.first)
        #expect(instance.state == .stopped)
        #expect(
            instance.lastError?.contains(
                "the Debian package mosquitto is not installed on kl-sbx-1; install it there: apt-get install mosquitto"
            )
                == true, "\(instance.lastError ?? "")")
        #expect(try AgentState(folder: data).instances()["mqtt-broker"]?.process == nil)
        // Nothing was unpacked or rendered for it.
        let releases = data.appendingPathComponent("instances/mqtt-broker/releases")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: releases.path)) ?? []).isEmpty)
    }

    @Test func executableThatThePackageDidNotInstall_isRefused() async throws {
        let program = ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-service").path
        let database = try Self.packageDatabase(installed: ["mosquitto": ["/usr/sbin/mosquitto"]])
        let (report, data, _) = try await apply(
            Self.instance(package: "mosquitto", executable: program, port: try FreePort.find()), database: database)
        #expect(
            report.instances.first?.lastError?.contains("\(program) is not a file of the Debian package mosquitto")
                == true, "\(report)")
        #expect(try AgentState(folder: data).instances()["mqtt-broker"]?.process == nil)
    }

    @Test func installedPackage_runsItsProgramInPlace_withTheRenderedConfig() async throws {
        let program = ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-service").path
        let database = try Self.packageDatabase(installed: ["stellwerk-test-service": ["/usr", program]])
        let port = try FreePort.find()
        let (report, data, node) = try await apply(
            Self.instance(package: "stellwerk-test-service", executable: program, port: port), database: database)
        defer { Task { try? await node.stopAll() } }
        let instance = try #require(report.instances.first)
        #expect(instance.state == .running, "\(instance.lastError ?? "")")
        let pid = try #require(try AgentState(folder: data).instances()["mqtt-broker"]?.process?.pid)
        // The running program is the package's own file, not a copy in the release folder.
        let running = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        #expect(running == program)
        let config = data.appendingPathComponent("instances/mqtt-broker/current/broker.conf")
        #expect(try String(contentsOf: config, encoding: .utf8) == "greeting: moin\n")
        try await node.stopAll()
    }

    @Test func pbkdf2SHA512_matchesTheStandardsKnownAnswers() {
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        let password = Array("password".utf8)
        let salt = Array("salt".utf8)
        #expect(
            hex(MosquittoPassword.pbkdf2SHA512(password: password, salt: salt, iterations: 1))
                == "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
        )
        // 101 iterations, as Mosquitto uses (computed with Python's hashlib.pbkdf2_hmac).
        #expect(
            hex(MosquittoPassword.pbkdf2SHA512(password: password, salt: salt, iterations: 101))
                == "0899b1f8f12cd157a81fc4cc1f8f046f1ac1f5f733a0534b26eebf34e94415d0e3983938e77f0e205b568937a0c9e21792c46a6944aba1b30ab14186a117e7f2"
        )
    }

    @Test(.enabled(if: MosquittoServer.shouldRun, "Mosquitto is not installed"))
    func renderedPasswordFile_letsMosquittoCheckTheSecret() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-mosquitto-password")
        let spec = InstanceSpec(
            service: "mqtt-broker", blueprint: "mqtt-broker", release: "r1",
            artifact: ArtifactReference(
                component: "package:mosquitto", sha256: nil, url: nil, executable: "/usr/sbin/mosquitto",
                package: "mosquitto"),
            arguments: [],
            configFiles: [
                ConfigFile(
                    path: "passwords", mode: 0o600, content: "sensors:{{secret:mqtt-sensors|mosquitto_password}}\n",
                    sha256: "x")
            ],
            configDigest: String(repeating: "2", count: 64), parameters: [:], ports: [:],
            health: HealthCheckSpec(
                probe: .tcp(port: 1), intervalSeconds: 1, timeoutSeconds: 1, retries: 1, startPeriodSeconds: 1),
            migrations: nil, stopGraceSeconds: 1)
        let digests = try RenderConfig.render(spec, into: folder, secrets: ["mqtt-sensors": "geheim-42"])
        let line = try String(contentsOf: folder.appendingPathComponent("passwords"), encoding: .utf8)
        #expect(line.hasPrefix("sensors:$7$101$"), "\(line)")
        #expect(!line.contains("geheim-42"))
        // The same secret renders the same file: no drift from a random salt.
        #expect(try RenderConfig.render(spec, into: folder, secrets: ["mqtt-sensors": "geheim-42"]) == digests)

        let broker = try MosquittoServer(
            host: "127.0.64.30", anonymous: false,
            extraConfiguration: "password_file \(folder.appendingPathComponent("passwords").path)")
        func publish(password: String) throws -> Int32 {
            try Spawn.run(
                "/usr/bin/mosquitto_pub",
                ["-h", broker.host, "-p", String(broker.port), "-u", "sensors", "-P", password, "-t", "t", "-m", "m"]
            ).status
        }
        #expect(try publish(password: "geheim-42") == 0, "\(broker.log)")
        #expect(try publish(password: "falsch") != 0)
    }
}
