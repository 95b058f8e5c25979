import Foundation
import Model
import Planner
import StellwerkAPI
import TestSupport
import Testing

/// Rules that keep values from smuggling content into config files or secrets onto other nodes, and
/// paths from leaving their folder.
@Suite struct ValueSafetyTests {
    @Test func plainValue_carryingASecretMarker_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "title: Daten Alpha", to: "title: \"{{secret:beta-token}}\"")
        let diagnostic = try onlyError(files)
        let at = try position(of: "\"{{secret:", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "of parameter 'title' (string) contains '{{'", hint: "placeholders belong in blueprints")
    }

    @Test func plainValue_withALineBreak_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "title: Daten Alpha", to: "title: \"Daten\\nadmin: true\"")
        let diagnostic = try onlyError(files)
        let at = try position(of: "\"Daten\\n", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "contains a line break or control character")
    }

    @Test func urlParameter_acceptsASecretReferenceForCredentials() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "public_url: https://api.alpha.example",
            to: "public_url: {secret: alpha-api-url}")
        let workspace = try Fixtures.load(files)
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let api = try #require(
            sandbox.sites.first { $0.name == "alpha" }?.nodes.first?.instances.first { $0.service == "api" })
        #expect(api.configFiles.first?.content.contains("url: {{secret:alpha-api-url}}") == true)
    }

    @Test func export_usingASecretParameter_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  url: http://{{ node.address }}:{{ param.port }}",
            to: "  url: http://{{ node.address }}:{{ param.port }}\n  token: \"{{ param.token }}\"")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.token }}\"", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "puts a secret into the export 'token'", hint: "secrets go only to the nodes")
    }

    @Test func healthPort_whoseParameterIsOptionalWithoutDefault_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.web, "port: {type: port, default: 9002}", to: "port: {type: port, required: false}")
        let diagnostic = try error(containing: "health check", in: files)
        let at = try position(of: "tcp: {port: http}", in: files[FixturePath.web])
        expect(
            diagnostic, file: FixturePath.web, line: at.line, column: at.column + 12,
            message: "the health check uses the port 'http', whose parameter 'port' is optional and has no default")
    }

    @Test(arguments: ["/usr/bin/server", "../server", "bin/../../x"])
    func executable_outsideTheArtifact_isRefused(path: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  product: datenplattform\n",
            to: "  product: datenplattform\n  executable: \(path)\n")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        expect(diagnostic, file: FixturePath.api, line: 5, message: "must be a path inside the artifact")
    }

    @Test func configPath_whenEmpty_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "  - path: api.yaml", to: "  - path: \"\"")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        expect(diagnostic, file: FixturePath.api, line: 14, message: "must stay inside the instance's folder")
    }

    @Test(arguments: [
        ("{type: duration, min: 1h, max: 1m, default: 30m}", "min of parameter 'extra' is longer than its max"),
        ("{type: string, min_length: 5, max_length: 2, default: abc}", "min_length of parameter 'extra' is larger"),
        ("{type: database_url, schemes: [mysql], default: \"sqlite:x.db\"}", "'mysql' is not a database scheme"),
    ])
    func parameterConstraints_thatContradictThemselves_areRefused(declaration: String, message: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  port: {type: port, default: 9001}\n",
            to: "  port: {type: port, default: 9001}\n  extra: \(declaration)\n")
        let found = errors(files)
        #expect(
            found.contains { $0.location.file == FixturePath.api && $0.message.contains(message) }, "\(describe(found))"
        )
    }

    @Test func urlSchemes_areComparedWithoutCase() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  public_url: {type: url}", to: "  public_url: {type: url, schemes: [HTTPS]}")
        #expect(errors(files).isEmpty, "\(describe(errors(files)))")
    }

    @Test(arguments: ["10.0.0.7:22", "dead:beef", "999.1.1.1", "1.2.3"])
    func nodeAddress_thatIsNoHostOrAddress_isRefused(address: String) throws {
        let files = try Fixtures.files(changing: FixturePath.beta, "address: 127.0.2.1", to: "address: \"\(address)\"")
        let diagnostic = try onlyError(files)
        expect(diagnostic, file: FixturePath.beta, line: 5, message: "is not a host name or IP address")
    }

    @Test(arguments: ["::1", "fe80::1", "127.0.0.1", "kl-live-1.kaiserslautern.example"])
    func nodeAddress_thatIsAHostOrAddress_isAccepted(address: String) throws {
        let files = try Fixtures.files(changing: FixturePath.beta, "address: 127.0.2.1", to: "address: \"\(address)\"")
        #expect(errors(files).isEmpty, "\(describe(errors(files)))")
    }

    @Test func respectedWindows_requireEverySiteToHaveOne() throws {
        let files = try Fixtures.files(
            changing: FixturePath.liveAlpha,
            "maintenance_windows:\n  - days: [tue, thu]\n    from: \"20:00\"\n    to: \"23:00\"\n",
            to: "")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.liveAlpha, line: 1, column: 7,
            message:
                "site 'alpha' has no maintenance_windows, but environment 'live' only changes sites inside their windows"
        )
    }

    @Test func secretFile_keepsAStricterModeThanTheDefault() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  - path: api.yaml\n", to: "  - path: api.yaml\n    mode: 0400\n")
        let workspace = try Fixtures.load(files)
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let api = try #require(
            sandbox.sites.first { $0.name == "alpha" }?.nodes.first?.instances.first { $0.service == "api" })
        #expect(api.configFiles.first?.mode == 0o400)
    }

    @Test func userAndReversibility_reachTheDesiredStateAndThePlan() throws {
        var files = try Fixtures.files(
            changing: FixturePath.api, "  args: [api, migrate]\n", to: "  args: [api, migrate]\n  reversible: true\n")
        files = try Fixtures.files(
            changing: FixturePath.api, "placement:", to: "user: stellwerk-api\nplacement:", in: files)
        let workspace = try Fixtures.load(files)
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let state = Planner(release: nil).desiredState(sandbox, secrets: [:])
        let api = try #require(state.first { $0.node == "alpha-1" }?.instances.first { $0.service == "api" })
        #expect(api.user == "stellwerk-api")
        #expect(api.migrations?.reversible == true)
    }
}

extension ValueSafetyTests {
    @Test func exportedParameter_givenAsASecretReference_isRefusedAtTheSite() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  url: http://{{ node.address }}:{{ param.port }}",
            to: "  url: http://{{ node.address }}:{{ param.port }}\n  public: \"{{ param.public_url }}\"")
        let broken = try Fixtures.files(
            changing: FixturePath.alpha, "public_url: https://api.alpha.example", to: "public_url: {secret: alpha-url}",
            in: files)
        let diagnostic = try onlyError(broken)
        let at = try position(of: "alpha-url}", in: broken[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "gives 'public_url' as a secret, but blueprint 'api' exports it as 'public'")
    }

    @Test func displayName_withAPlaceholder_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "display_name: Gemeinde Alpha",
            to: "display_name: \"Alpha {{secret:beta-token}}\"")
        let diagnostic = try onlyError(files)
        expect(diagnostic, file: FixturePath.alpha, line: 2, column: 15, message: "the display_name contains '{{'")
    }

    @Test func artifactURL_withAPassword_isRefusedWithoutShowingIt() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  product: datenplattform\n",
            to: "  artifact:\n    url: https://ci:hunter2@artifacts.example/api.tar.gz\n"
                + "    sha256: \(String(repeating: "a", count: 64))\n  executable: bin/api\n")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        #expect(diagnostic.message == "the artifact url 'https://ci:***@artifacts.example/api.tar.gz' holds a password")
    }

    @Test func databaseParameters_andBackupsToKeep_reachTheDesiredState() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  args: [api, migrate]\n", to: "  args: [api, migrate]\n  keep_backups: 3\n")
        let sandbox = try EnvironmentResolver(workspace: try Fixtures.load(files)).resolve("sandbox")
        let state = Planner(release: nil).desiredState(sandbox, secrets: [:])
        let api = try #require(state.first { $0.node == "alpha-1" }?.instances.first { $0.service == "api" })
        #expect(api.migrations?.databases == ["database"])
        #expect(api.migrations?.keepBackups == 3)
    }

    @Test(arguments: ["0", "101", "three"])
    func backupsToKeep_outsideOneToAHundred_isRefusedWhereItStands(value: String) throws {
        let blueprint = try #require(Fixtures.files()[FixturePath.api])
            .replacingOccurrences(
                of: "  args: [api, migrate]\n", with: "  args: [api, migrate]\n  keep_backups: \(value)\n")
        let at = try position(of: "\(value)\n", in: blueprint)
        var files = Fixtures.files()
        files[FixturePath.api] = blueprint
        expect(
            try onlyError(files, in: FixturePath.api), file: FixturePath.api, line: at.line, column: at.column,
            message: "keep_backups")
    }

    @Test func oldStateFiles_withoutNewerFields_stillDecode() throws {
        let json = #"{"arguments": ["api", "migrate"], "backup": true, "target": "0003"}"#
        let spec = try JSONDecoder().decode(MigrationSpec.self, from: Data(json.utf8))
        #expect(spec == MigrationSpec(arguments: ["api", "migrate"], backup: true, reversible: false, target: "0003"))
    }
}
