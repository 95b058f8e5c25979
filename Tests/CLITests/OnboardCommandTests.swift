import Foundation
import TestSupport
import Testing

/// `stellwerk onboard` on a copy of the shipped workspace, without an orchestrator: the new site
/// from the shipped template, checked with everything else before it is written, and every refusal
/// writing nothing.
@Suite struct OnboardCommandTests {
    /// A copy of the repository's blueprints and environments.
    static func workspace() throws -> URL {
        let root = try Fixtures.temporaryFolder("stellwerk-onboard")
        for folder in ["Blueprints", "Environments"] {
            try FileManager.default.copyItem(
                at: Fixtures.repositoryRoot.appendingPathComponent(folder), to: root.appendingPathComponent(folder))
        }
        return root
    }

    /// Every file below `root` with its bytes: what a refusal must leave as it was.
    static func snapshot(_ root: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
            files[url.path] = try Data(contentsOf: url)
        }
        return files
    }

    static func onboard(_ arguments: [String], root: URL) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run(
            "stellwerk", ["onboard"] + arguments + ["--root", root.path], in: root,
            environment: ["STELLWERK_SERVER": "", "STELLWERK_TOKEN": "", "STELLWERK_CA": ""])
    }

    @Test func aNewMunicipality_getsItsSandboxSite_andAnInactiveLiveSkeleton() async throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try await Self.onboard(
            [
                "--id", "neustadt", "--name", "Verbandsgemeinde Neustadt (Weinstraße)", "--domain", "neustadt.example",
                "--nodes", "2", "--organization", "verbandsgemeinde-neustadt",
            ], root: root)
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        let site = try String(
            contentsOf: root.appendingPathComponent("Environments/sandbox/sites/neustadt.yaml"), encoding: .utf8)
        #expect(site.hasPrefix("# Verbandsgemeinde Neustadt (Weinstraße) in sandbox: made by `stellwerk onboard`"))
        #expect(site.contains("display_name: \"Verbandsgemeinde Neustadt (Weinstraße)\""))
        #expect(site.contains("  - name: \"neustadt-1\"\n    address: \"neustadt-1.neustadt.example\""))
        #expect(site.contains("  - name: \"neustadt-2\"\n    address: \"neustadt-2.neustadt.example\""))
        #expect(site.contains("mqtt_password: {secret: \"neustadt-mqtt-password\"}"))
        // Its portal searches its own organisation first and previews its own files.
        #expect(site.contains("organizations: \"verbandsgemeinde-neustadt\""))
        #expect(site.contains("preview_hosts: \"opendata.neustadt.example\""))
        #expect(!site.contains("{{"))
        let skeleton = root.appendingPathComponent("Environments/live/sites/neustadt.yaml.skeleton")
        #expect(try String(contentsOf: skeleton, encoding: .utf8).contains("rename it to neustadt.yaml"))
        #expect(
            !FileManager.default.fileExists(
                atPath: root.appendingPathComponent("Environments/live/sites/neustadt.yaml").path))
        // What the municipality gets: its services on its nodes, in the plan.
        #expect(result.standardOutput.contains("neustadt-1"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("portal"), "\(result.standardOutput)")
        #expect(
            result.standardOutput.contains(
                "stellwerk node bootstrap ssh://root@neustadt-2.neustadt.example --env sandbox --site neustadt --node neustadt-2"
            ))
        #expect(result.standardOutput.contains("No orchestrator given"))
        // The workspace with it is valid, and a second onboarding of the same id is refused.
        let validated = try await ProcessRunner.run("stellwerk", ["validate", "--root", root.path])
        #expect(validated.status == 0, "\(validated.standardOutput)\(validated.standardError)")
        let before = try Self.snapshot(root)
        let again = try await Self.onboard(["--id", "neustadt", "--name", "Neustadt"], root: root)
        #expect(again.status == 1)
        #expect(
            again.standardError.contains("the site 'neustadt' exists already (in sandbox)"), "\(again.standardError)")
        #expect(try Self.snapshot(root) == before)
    }

    /// `--json` for scripts: the files, the new site's part of the plan, the next commands; nothing
    /// made without an orchestrator.
    @Test func json_saysWhatWasWrittenAndWhatComesNext() async throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try await Self.onboard(
            ["--id", "neustadt", "--name", "Neustadt", "--address", "10.20.0.11", "--json"], root: root)
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["site"] as? String == "neustadt")
        #expect(
            object["files"] as? [String] == [
                "Environments/live/sites/neustadt.yaml.skeleton", "Environments/sandbox/sites/neustadt.yaml",
            ])
        let plan = try #require(object["plan"] as? [String: Any])
        #expect((plan["sites"] as? [[String: Any]])?.compactMap { $0["site"] as? String } == ["neustadt"])
        #expect((object["secretsGenerated"] as? [String]) == [])
        #expect((object["joinTokens"] as? [Any])?.isEmpty == true)
        let next = try #require(object["nextCommands"] as? [String])
        #expect(next.first?.hasPrefix("stellwerk node bootstrap ssh://root@10.20.0.11 --env sandbox") == true)
        #expect(next.last == "stellwerk apply --env sandbox --release RELEASE")
    }

    @Test(arguments: [
        (["--id", "kusel", "--name", "Kusel"], "the site 'kusel' exists already"),
        (["--id", "kusel2", "--name", "landkreis kusel"], "'Landkreis Kusel' is there already as site 'kusel'"),
        (["--id", "Neustadt", "--name", "Neustadt"], "--id 'Neustadt' must be lowercase letters"),
        (["--id", "neustadt", "--name", "Neu\"stadt: {x}"], "--name 'Neu\"stadt: {x}' must be 2 to 120 letters"),
        (["--id", "neustadt", "--name", "Neustadt", "--domain", "neu stadt"], "--domain 'neu stadt' is not a domain"),
        (
            ["--id", "neustadt", "--name", "Neustadt", "--nodes", "2", "--address", "10.0.0.1"],
            "--address is given 1 time(s) for 2 node(s)"
        ),
        (
            ["--id", "neustadt", "--name", "Neustadt", "--template", "stadt"],
            "no site template Blueprints/templates/stadt.yaml; the templates are: municipality"
        ),
        (["--id", "neustadt", "--name", "Neustadt", "--env", "sandkasten"], "no environment 'sandkasten'"),
        (["--id", "neustadt", "--name", "Neustadt", "--nodes", "99"], "--nodes 99 is not between 1 and 20"),
        (
            ["--id", "neustadt", "--name", "Neustadt", "--organization", "VG Neustadt"],
            "--organization 'VG Neustadt' is not an organisation's name in the catalog"
        ),
        (
            ["--id", "neustadt", "--name", "Neustadt", "--token-ttl", "99d"],
            "--token-ttl 99d is not a duration from 1m to 30d"
        ),
    ])
    func aRefusal_isOneLine_andWritesNothing(arguments: [String], message: String) async throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let before = try Self.snapshot(root)
        let result = try await Self.onboard(arguments, root: root)
        #expect(result.status != 0)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(try Self.snapshot(root) == before)
    }

    /// A site the workspace would not accept (here: two nodes at one address) is reported where it
    /// is, and nothing is written; a dry run writes nothing either.
    @Test func anInvalidResult_orADryRun_writesNothing() async throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let before = try Self.snapshot(root)
        let clash = try await Self.onboard(
            ["--id", "neustadt", "--name", "Neustadt", "--address", "10.1.1.1", "--address", "10.1.1.1"], root: root)
        #expect(clash.status == 1)
        #expect(clash.standardError.contains("Environments/sandbox/sites/neustadt.yaml:"), "\(clash.standardError)")
        #expect(try Self.snapshot(root) == before)
        // A file left where one would go (a skeleton of an earlier attempt) is never written over.
        let left = root.appendingPathComponent("Environments/live/sites/neustadt.yaml.skeleton")
        try Data("# kept\n".utf8).write(to: left)
        let kept = try Self.snapshot(root)
        let over = try await Self.onboard(["--id", "neustadt", "--name", "Neustadt"], root: root)
        #expect(over.status == 1)
        #expect(
            over.standardError.contains("Environments/live/sites/neustadt.yaml.skeleton exists already"),
            "\(over.standardError)")
        #expect(try Self.snapshot(root) == kept)
        try FileManager.default.removeItem(at: left)
        let dry = try await Self.onboard(["--id", "neustadt", "--name", "Neustadt", "--dry-run"], root: root)
        #expect(dry.status == 0, "\(dry.standardError)")
        #expect(dry.standardOutput.contains("would write Environments/sandbox/sites/neustadt.yaml"))
        #expect(try Self.snapshot(root) == before)
    }
}
