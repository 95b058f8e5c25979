import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// Whole commands, run as a user runs them, with their output compared to golden files.
///
/// Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 swift test --filter CLITests`
/// and review the diff.
@Suite struct CLITests {
    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden")

    /// Compares `actual` with the golden file `name`, or rewrites it when UPDATE_GOLDEN is set.
    private func expectGolden(
        _ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let url = Self.goldenFolder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: Self.goldenFolder, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "output differs from Golden/\(name)", sourceLocation: sourceLocation)
    }

    private func fixtureFolder(_ files: [String: String] = Fixtures.files()) throws -> URL {
        let root = try Fixtures.temporaryFolder()
        try Fixtures.write(files, under: root)
        return root
    }

    // MARK: validate

    @Test func validate_onTheShippedFiles_succeeds() async throws {
        let result = try await ProcessRunner.run("stellwerk", ["validate", "--root", Fixtures.repositoryRoot.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardOutput.hasPrefix(
                "valid: 7 blueprints, 4 environments (live, local-live, local-sandbox, sandbox), 16 sites"))
    }

    @Test func plan_showsWhatANodeMustBringItself_aDebianPackage() async throws {
        let root = Fixtures.repositoryRoot.path
        let text = try await ProcessRunner.run("stellwerk", ["plan", "--env", "local-sandbox", "--root", root])
        #expect(text.status == 0, "\(text.standardError)")
        let brokers = text.standardOutput.split(separator: "\n").filter { $0.contains("+ mqtt-broker") }
        #expect(brokers.count == 2, "\(text.standardOutput)")
        #expect(brokers.allSatisfy { $0.contains("create · needs Debian package mosquitto") }, "\(brokers)")
        // The package is not an unbuilt artifact: only datenplattform waits for a release.
        #expect(text.standardOutput.contains("datenplattform is not built into an artifact yet"))
        #expect(!text.standardOutput.contains("package:mosquitto is not built"))

        let json = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "local-sandbox", "--root", root, "--json"])
        let plan = try JSONDecoder().decode(Plan.self, from: Data(json.standardOutput.utf8))
        let artifacts = plan.sites.flatMap { $0.nodes.flatMap(\.desired.instances) }.filter {
            $0.service == "mqtt-broker"
        }.map(\.artifact)
        #expect(
            artifacts
                == Array(
                    repeating: ArtifactReference(
                        component: "package:mosquitto", sha256: nil, url: nil, executable: "/usr/sbin/mosquitto",
                        package: "mosquitto"), count: 2))
    }

    /// What the agents could never install is refused before anything is uploaded: a compressed
    /// archive, and a component no blueprint runs (a typo would be uploaded and never deployed).
    @Test func releaseCreate_refusesCompressedArchivesAndComponentsNoBlueprintRuns() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-release-create")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("#!/bin/sh\n".utf8).write(to: folder.appendingPathComponent("datenplattform"))
        let plain = folder.appendingPathComponent("plain.tar")
        let compressed = folder.appendingPathComponent("compressed.tar.gz")
        #expect(try Spawn.run("/bin/tar", ["-cf", plain.path, "-C", folder.path, "datenplattform"]).status == 0)
        #expect(try Spawn.run("/bin/tar", ["-czf", compressed.path, "-C", folder.path, "datenplattform"]).status == 0)
        let root = Fixtures.repositoryRoot.path
        let gz = try await ProcessRunner.run(
            "stellwerk", ["release", "create", "--root", root, "--artifact", "datenplattform=\(compressed.path)"])
        #expect(gz.status == 1)
        #expect(
            gz.standardError.contains("it is compressed (gzip); artifacts are plain tar archives"),
            "\(gz.standardError)")
        let typo = try await ProcessRunner.run(
            "stellwerk", ["release", "create", "--root", root, "--artifact", "datenplatform=\(plain.path)"])
        #expect(typo.status == 1)
        #expect(
            typo.standardError.contains(
                "no blueprint in \(root) runs the component 'datenplatform' (they run: datenplattform)"),
            "\(typo.standardError)")
    }

    @Test func validate_fromASubfolder_findsTheWorkspaceAbove() async throws {
        let root = try fixtureFolder()
        let result = try await ProcessRunner.run(
            "stellwerk", ["validate"], in: root.appendingPathComponent("Environments/sandbox"))
        #expect(result.status == 0)
        #expect(result.standardOutput == "valid: 2 blueprints, 2 environments (live, sandbox), 3 sites, 3 nodes\n")
    }

    @Test func validate_onBrokenFiles_listsEveryErrorAndExitsOne() async throws {
        var files = Fixtures.files()
        files["Blueprints/api.yaml"] = try #require(files["Blueprints/api.yaml"])
            .replacingOccurrences(of: "  workers: {type: int", with: "  workers: {tpye: int")
        files["Environments/sandbox/sites/beta.yaml"] = try #require(files["Environments/sandbox/sites/beta.yaml"])
            .replacingOccurrences(of: "title: Daten Beta", with: "titel: Daten Beta")
        let result = try await ProcessRunner.run("stellwerk", ["validate", "--root", try fixtureFolder(files).path])
        #expect(result.status == 1)
        #expect(result.standardOutput.isEmpty)
        try await expectGolden(result.standardError, "validate-broken.txt")
    }

    /// A credential written in plain text is refused, and neither the message nor the source line
    /// under it repeats it: terminals and CI logs are read by many.
    @Test func validate_onACredentialInPlainText_showsTheLineWithoutTheValue() async throws {
        var files = Fixtures.files()
        files["Environments/sandbox/sites/alpha.yaml"] = try #require(files["Environments/sandbox/sites/alpha.yaml"])
            .replacingOccurrences(of: "token: {secret: alpha-token}", with: "token: s3cr3t-plain-value")
        let result = try await ProcessRunner.run("stellwerk", ["validate", "--root", try fixtureFolder(files).path])
        #expect(result.status == 1)
        #expect(!result.standardError.contains("s3cr3t"), "\(result.standardError)")
        #expect(result.standardError.contains("is a plain value, but the parameter is a secret"))
        #expect(result.standardError.contains("  |       token: •••\n"), "\(result.standardError)")
    }

    /// Spans from the command line are bounded: one that does not fit a number is one line, not a crash.
    @Test(arguments: [["token", "create", "--env", "e", "--site", "s", "--node", "n", "--ttl", "99999999999999999d"]])
    func durationOptions_thatOverflow_areRefusedInOneLine(arguments: [String]) async throws {
        let result = try await ProcessRunner.run(
            "stellwerk", arguments, environment: ["STELLWERK_SERVER": "https://127.0.0.1:1", "STELLWERK_TOKEN": "x"])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("write a span such as 30m, 1h or 7d"), "\(result.standardError)")
        let server = try await ProcessRunner.run(
            "stellwerk", ["server", "--data", "/nonexistent", "--node-certificate-lifetime", "999999999999999999d"])
        #expect(server.status != 0)
        #expect(server.standardError.contains("give a span from 1m to 365d"), "\(server.standardError)")
    }

    @Test func validate_withJSON_reportsDiagnosticsForScripts() async throws {
        var files = Fixtures.files()
        files["Environments/live/environment.yaml"] = try #require(files["Environments/live/environment.yaml"])
            .replacingOccurrences(of: "approvals: 1", with: "approvals: one")
        let result = try await ProcessRunner.run(
            "stellwerk", ["validate", "--json", "--root", try fixtureFolder(files).path])
        #expect(result.status == 1)
        try await expectGolden(result.standardOutput, "validate-broken.json")
    }

    @Test func validate_withAMissingRoot_saysSoInOneLine() async throws {
        let result = try await ProcessRunner.run("stellwerk", ["validate", "--root", "/nonexistent/stellwerk"])
        #expect(result.status != 0)
        #expect(
            result.standardError.trimmingCharacters(in: .newlines)
                == "Error: --root /nonexistent/stellwerk: no such folder")
    }

    // MARK: plan

    @Test func plan_onTheShippedSandbox_createsTheSevenServicesAtTheSixSites() async throws {
        let result = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbox", "--root", Fixtures.repositoryRoot.path])
        #expect(result.status == 0, "\(result.standardError)")
        let output = result.standardOutput
        for site in [
            "Stadt Kaiserslautern", "Stadt und Verbandsgemeinde Linz am Rhein", "Landkreis Kusel",
            "Landkreis Mayen-Koblenz", "Eifelkreis Bitburg-Prüm", "Landkreis Sankt Wendel",
        ] {
            #expect(output.contains("\n\(site) ("), "missing site \(site)")
        }
        #expect(output.components(separatedBy: "+ catalog ").count - 1 == 1)
        #expect(output.components(separatedBy: "+ portal ").count - 1 == 6)
        #expect(output.components(separatedBy: "+ sensors ").count - 1 == 6)
        #expect(output.components(separatedBy: "+ visualization ").count - 1 == 6)
        #expect(output.components(separatedBy: "+ mobility ").count - 1 == 1)
        #expect(
            output.components(separatedBy: "+ mqtt-broker    create · needs Debian package mosquitto").count - 1 == 6)
        #expect(output.components(separatedBy: "+ proxy          create · needs Debian package nginx").count - 1 == 6)
        // What each site's proxy serves, by address.
        for line in [
            "  serves https://sandbox.katalog.kaiserslautern.example/ → catalog",
            "  serves https://sandbox.opendata.kaiserslautern.example/sensoren/ → sensors",
            "  serves https://sandbox.opendata.landkreis-kusel.example/grafiken/ → visualization",
        ] {
            #expect(output.contains("\n\(line)\n"), "no '\(line)'")
        }
        #expect(
            output.hasSuffix(
                "Plan: 32 to create, 0 to update, 0 to migrate, 0 to restart, 0 to remove, 0 unchanged.\n"
                    + "Rollout: 6 nodes in 3 waves (canary 1, then at most 3 at a time); "
                    + "each stays healthy 10s before the next: at least 30s.\n"), "\(output)")
    }

    @Test func plan_onFixtures_matchesTheGoldenTerminalAndJSONForms() async throws {
        let root = try fixtureFolder()
        let text = try await ProcessRunner.run("stellwerk", ["plan", "--env", "sandbox", "--root", root.path])
        #expect(text.status == 0)
        try await expectGolden(text.standardOutput, "plan-sandbox.txt")
        let json = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbox", "--json", "--root", root.path])
        #expect(json.status == 0)
        try await expectGolden(json.standardOutput, "plan-sandbox.json")
    }

    @Test func plan_whenSavedAndShown_readsBackTheSamePlan() async throws {
        let root = try fixtureFolder()
        let saved = root.appendingPathComponent("sandbox.plan.json").path
        let created = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbox", "--out", saved, "--root", root.path])
        #expect(created.status == 0)
        #expect(created.standardOutput.hasSuffix("Saved the plan to \(saved).\n"))

        let shown = try await ProcessRunner.run("stellwerk", ["plan", "show", saved])
        #expect(shown.status == 0)
        #expect(shown.standardOutput + "Saved the plan to \(saved).\n" == created.standardOutput)
        let shownJSON = try await ProcessRunner.run("stellwerk", ["plan", "show", saved, "--json"])
        #expect(shownJSON.standardOutput == (try String(contentsOfFile: saved, encoding: .utf8)))
    }

    @Test func plan_againstTheStateItProduces_showsNoChanges() async throws {
        let root = try fixtureFolder()
        let saved = root.appendingPathComponent("plan.json").path
        _ = try await ProcessRunner.run("stellwerk", ["plan", "--env", "sandbox", "--out", saved, "--root", root.path])
        // A snapshot as a perfect apply leaves it: every node reports its desired state.
        let plan =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: saved))) as? [String: Any]
        var nodes: [String: Any] = [:]
        for site in plan?["sites"] as? [[String: Any]] ?? [] {
            for node in site["nodes"] as? [[String: Any]] ?? [] {
                let desired = node["desired"] as? [String: Any] ?? [:]
                nodes[node["node"] as? String ?? ""] = [
                    "site": desired["site"] ?? "", "address": desired["address"] ?? "",
                    "instances": desired["instances"] ?? [],
                ]
            }
        }
        let snapshot: [String: Any] = ["serial": 4, "environment": "sandbox", "nodes": nodes, "secrets": [:]]
        let state = root.appendingPathComponent("state.json")
        try JSONSerialization.data(withJSONObject: snapshot).write(to: state)

        let result = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbox", "--state", state.path, "--root", root.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("state serial 4"))
        #expect(result.standardOutput.contains("No changes. 3 instances are up to date.\n"))
    }

    @Test func plan_forAnUnknownEnvironment_suggestsTheClosest() async throws {
        let result = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbx", "--root", try fixtureFolder().path])
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "Environments: error: there is no environment 'sandbx'\n  hint: did you mean 'sandbox'?\n1 error in 1 file\n"
        )
    }

    @Test(arguments: [
        ("{not json", "the state snapshot is not valid JSON"),
        (
            #"{"serial": 1, "environment": "live", "nodes": {}, "secrets": {}}"#,
            "the snapshot is of environment 'live', not 'sandbox'"
        ),
        (
            #"{"serial": "one", "environment": "sandbox", "nodes": {}, "secrets": {}}"#,
            "the state snapshot has a wrong value at .serial"
        ),
    ])
    func plan_withABadStateFile_failsWithOneReadableLine(content: String, expected: String) async throws {
        let root = try fixtureFolder()
        let state = root.appendingPathComponent("state.json")
        try Data(content.utf8).write(to: state)
        let result = try await ProcessRunner.run(
            "stellwerk", ["plan", "--env", "sandbox", "--state", state.path, "--root", root.path])
        #expect(result.status != 0)
        #expect(result.standardOutput.isEmpty)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains(expected), "\(result.standardError)")
    }

    @Test func planShow_withAnUnknownFormat_refusesIt() async throws {
        let root = try fixtureFolder()
        let saved = root.appendingPathComponent("plan.json").path
        _ = try await ProcessRunner.run("stellwerk", ["plan", "--env", "sandbox", "--out", saved, "--root", root.path])
        let text = try String(contentsOfFile: saved, encoding: .utf8).replacingOccurrences(
            of: "\"format\" : 1", with: "\"format\" : 99")
        try Data(text.utf8).write(to: URL(fileURLWithPath: saved))
        let result = try await ProcessRunner.run("stellwerk", ["plan", "show", saved])
        #expect(result.status != 0)
        #expect(result.standardError.contains("the plan has format 99; this stellwerk reads format 1"))
    }

    @Test(arguments: [
        (["--max-connections-per-client", "0"], "--max-connections-per-client 0: give a number from 1 to 100000"),
        (["--max-connections-per-client", "1e9"], "--max-connections-per-client"),
        (["--handshake-timeout", "301"], "--handshake-timeout 301: give a number of seconds from 1 to 300"),
        (["--lost-after", "1"], "--lost-after 1: give a number of seconds from 5 to 86400"),
        (
            ["--advertise-url", "http://a.example:8443"],
            "--advertise-url http://a.example:8443: give the https:// address"
        ),
        (["--advertise-url", "https://a.example, https://b.example"], "--advertise-url https://a.example, https://b"),
    ])
    func server_withConnectionLimitsOutOfRange_refusesThem_andStartsNothing(
        options: [String], expected: String
    ) async throws {
        let data = try Fixtures.temporaryFolder("stellwerk-server-options").appendingPathComponent("server")
        let result = try await ProcessRunner.run(
            "stellwerk", ["server", "--data", data.path, "--listen", "127.0.0.1:0"] + options)
        #expect(result.status != 0)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: data.path), "nothing is created for a refused start")
    }

    // MARK: help and the other executables

    @Test(arguments: [
        ["--help"], ["validate", "--help"], ["plan", "--help"], ["plan", "create", "--help"],
        ["plan", "show", "--help"], ["onboard", "--help"],
    ])
    func help_onEveryCommand_explainsWithAnExample(arguments: [String]) async throws {
        let result = try await ProcessRunner.run("stellwerk", arguments)
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("Example"))
    }

    @Test func agent_printsItsVersion() async throws {
        let version = try await ProcessRunner.run("stellwerk-agent", ["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput == "0.1.0-dev\n")
    }

    @Test func datenplattform_printsItsVersion_andAnUnreadableConfigurationIsOneLine() async throws {
        let version = try await ProcessRunner.run("datenplattform", ["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput == "0.2.0-dev\n")
        // A configuration a service cannot read is one line naming the file.
        for service in ["sensors", "visualization", "mobility"] {
            let unreadable = try await ProcessRunner.run("datenplattform", [service, "--config", "x.yaml"])
            #expect(unreadable.status != 0)
            #expect(
                unreadable.standardError == "Error: x.yaml: cannot read the configuration file\n",
                "\(service): \(unreadable.standardError)")
        }
        let migrations = try await ProcessRunner.run("datenplattform", ["migrations"])
        #expect(
            migrations.standardOutput.hasSuffix(
                "catalog-0002\nsensors-0001\nsensors-0002\nsensors-0003\nsensors-0004\nmobility-0001\n"),
            "\(migrations.standardOutput)")
        let unknown = try await ProcessRunner.run("datenplattform", ["run"])
        #expect(unknown.status != 0)
    }
}
