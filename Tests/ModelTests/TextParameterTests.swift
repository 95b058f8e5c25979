import Model
import Planner
import TestSupport
import Testing

/// Text parameters: files a site keeps in its environment's folder (`{file: PATH}`), rendered as a
/// config file's whole content, and refused anywhere their lines could become keys or arguments.
@Suite struct TextParameterTests {
    /// The fixture workspace where `web` takes a text parameter `dashboards`, rendered as its own file.
    static func files(alpha parameter: String, extra: [String: String] = [:]) throws -> [String: String] {
        var files = try Fixtures.files(
            changing: FixturePath.web, "  title: {type: string, default: Beispiel}\n",
            to: "  title: {type: string, default: Beispiel}\n  dashboards: {type: text, default: \"\"}\n")
        files = try Fixtures.files(
            changing: FixturePath.web, "      title: {{ param.title }}\n",
            to: "      title: {{ param.title }}\n  - path: dashboards.yaml\n    template: \"{{ param.dashboards }}\"\n",
            in: files)
        files = try Fixtures.files(
            changing: FixturePath.alpha, "title: Daten Alpha", to: "title: Daten Alpha\n      dashboards: \(parameter)",
            in: files)
        return files.merging(extra) { _, new in new }
    }

    /// The line of alpha's site file that sets `dashboards`.
    static func line(_ files: [String: String]) throws -> Int {
        try position(of: "dashboards: ", in: files[FixturePath.alpha]).line
    }

    @Test func fileInTheEnvironmentFolder_becomesTheConfigFile_withUnixLineEnds() throws {
        let dashboard = "\u{FEFF}dashboards:\r\n  - id: pegel\r\n    title: Pegel\r\n"
        let files = try Self.files(
            alpha: "{file: dashboards/alpha.yaml}", extra: ["Environments/sandbox/dashboards/alpha.yaml": dashboard])
        let workspace = try Fixtures.load(files)
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let web = try #require(
            sandbox.sites.first { $0.name == "alpha" }?.nodes.first?.instances.first { $0.service == "web" })
        let file = try #require(web.configFiles.first { $0.path == "dashboards.yaml" })
        #expect(file.content == "dashboards:\n  - id: pegel\n    title: Pegel\n")
        // The plan shows the text by size and digest; the config file it fills carries the content.
        guard case .value(let text)? = web.parameters["dashboards"] else {
            Issue.record("dashboards is not a value")
            return
        }
        #expect(Planner.shown(text).hasPrefix("3 lines, sha256:"))
        // Beta gives no file and gets the default, an empty file.
        let beta = try #require(
            sandbox.sites.first { $0.name == "beta" }?.nodes.first?.instances.first { $0.service == "web" })
        #expect(beta.configFiles.first { $0.path == "dashboards.yaml" }?.content == "")
    }

    @Test func changingTheFile_changesTheRevision() throws {
        let path = "Environments/sandbox/dashboards/alpha.yaml"
        let before = try Fixtures.load(Self.files(alpha: "{file: dashboards/alpha.yaml}", extra: [path: "a: 1\n"]))
        let after = try Fixtures.load(Self.files(alpha: "{file: dashboards/alpha.yaml}", extra: [path: "a: 2\n"]))
        #expect(before.revision != after.revision)
    }

    @Test func missingFile_isReportedWhereTheSiteNamesIt() throws {
        let files = try Self.files(alpha: "{file: dashboards/alpha.yaml}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "dashboards/alpha.yaml}", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "Environments/sandbox/dashboards/alpha.yaml: no such file")
    }

    @Test(arguments: ["../live/dashboards/alpha.yaml", "/etc/passwd", "dashboards//alpha.yaml", "./alpha.yaml", ""])
    func pathLeavingTheEnvironmentFolder_isRefused(path: String) throws {
        let files = try Self.files(alpha: "{file: \"\(path)\"}")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: try Self.line(files),
            message: "is not a path inside the environment's folder")
    }

    @Test func fileWithAControlCharacterOrAPlaceholder_isRefused() throws {
        let path = "Environments/sandbox/dashboards/alpha.yaml"
        let bell = try Self.files(alpha: "{file: dashboards/alpha.yaml}", extra: [path: "a: \u{7}\n"])
        expect(
            try onlyError(bell), file: FixturePath.alpha, line: try Self.line(bell),
            message: "contains the control character U+7")
        let marker = try Self.files(
            alpha: "{file: dashboards/alpha.yaml}", extra: [path: "a: \"{{secret:beta-token}}\"\n"])
        expect(try onlyError(marker), file: FixturePath.alpha, line: try Self.line(marker), message: "contains '{{'")
    }

    @Test func fileForAParameterThatIsNotText_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "title: Daten Alpha", to: "title: {file: title.txt}"
        )
        .merging(["Environments/sandbox/title.txt": "Daten"]) { _, new in new }
        let diagnostic = try onlyError(files)
        let at = try position(of: "title: {file:", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line,
            message: "is of type string and takes a value, not a file")
    }

    @Test func secretAndFileTogether_areRefused() throws {
        let files = try Self.files(alpha: "{file: a.yaml, secret: alpha-token}")
        expect(
            try onlyError(files), file: FixturePath.alpha, line: try Self.line(files),
            message: "is either {secret: NAME} or {file: PATH}, not both")
    }

    @Test func textParameter_amongOtherText_isRefused() throws {
        var files = try Self.files(alpha: "\"a: 1\"")
        files = try Fixtures.files(
            changing: FixturePath.web, "      title: {{ param.title }}\n",
            to: "      title: {{ param.title }}\n      extra: {{ param.dashboards }}\n", in: files)
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.dashboards }}\n", in: files[FixturePath.web])
        expect(
            diagnostic, file: FixturePath.web, line: at.line, column: at.column,
            message: "puts the text parameter 'dashboards' among other text",
            hint: "a config file's whole content")
    }

    @Test func textLongerThanItsLimit_isRefused() throws {
        var files = try Self.files(
            alpha: "{file: dashboards/alpha.yaml}",
            extra: ["Environments/sandbox/dashboards/alpha.yaml": String(repeating: "a", count: 40) + "\n"])
        files = try Fixtures.files(
            changing: FixturePath.web, "dashboards: {type: text, default: \"\"}",
            to: "dashboards: {type: text, default: \"\", max_length: 32}", in: files)
        let diagnostic = try onlyError(files)
        expect(diagnostic, file: FixturePath.alpha, line: try Self.line(files), message: "is 41 bytes, more than 32")
    }

    /// A logo (`format: svg`) that could run or load something is refused when the site is validated,
    /// where the site names the file, before any portal is rolled out with it; a clean one passes.
    @Test(arguments: [
        (#"<svg><script>alert(1)</script></svg>"#, "holds a script"),
        (#"<svg><rect onclick="x()"/></svg>"#, "holds an event handler"),
        (#"<svg><image href="https://tracker.example/p.png"/></svg>"#, "loads from elsewhere"),
        ("<html><body>kein Bild</body></html>", "is not an SVG image"),
        (#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>"#, ""),
    ])
    func svgLogos_thatCouldRunOrLoadSomething_areRefusedAtTheSiteLine(svg: String, problem: String) throws {
        var files = try Self.files(
            alpha: "{file: portal/logo.svg}", extra: ["Environments/sandbox/portal/logo.svg": svg])
        files = try Fixtures.files(
            changing: FixturePath.web, "  dashboards: {type: text, default: \"\"}\n",
            to: "  dashboards: {type: text, format: svg, default: \"\"}\n", in: files)
        guard !problem.isEmpty else {
            #expect(errors(files).isEmpty, "\(describe(errors(files)))")
            return
        }
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: try Self.line(files),
            message: "the file Environments/sandbox/portal/logo.svg of parameter 'dashboards' (text) \(problem)")
    }

    @Test func format_isForTextOnly_andKnown() throws {
        let files = try Fixtures.files(
            changing: FixturePath.web, "  title: {type: string, default: Beispiel}\n",
            to: "  title: {type: string, default: Beispiel, format: svg}\n")
        #expect(
            try onlyError(files, in: FixturePath.web).message.contains("'format' does not apply to parameter 'title'"))
        let unknown = try Self.files(alpha: "x").mapValues {
            $0.replacingOccurrences(
                of: "dashboards: {type: text, default:", with: "dashboards: {type: text, format: png, default:")
        }
        #expect(
            try onlyError(unknown, in: FixturePath.web).message.contains(
                "'png' is not a format of parameter 'dashboards'"))
    }
}
