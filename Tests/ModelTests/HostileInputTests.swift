import Foundation
import Model
import TestSupport
import Testing
import WorkspaceFiles

/// Broken, hostile and odd input: each must fail cleanly, with one clear diagnostic and without
/// crashing or hanging; and text that only looks hostile must still load.
@Suite(.timeLimit(.minutes(1))) struct HostileInputTests {
    /// Where hostile content goes: a file no other file refers to, so its diagnostic is the only one.
    static let hostilePath = "Blueprints/hostile.yaml"

    /// Writes the fixture workspace to a fresh temporary folder, lets `prepare` change it, and loads
    /// it from disk; returns the diagnostics.
    static func diagnosticsOnDisk(_ prepare: (URL) throws -> Void) throws -> [Diagnostic] {
        let root = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Fixtures.write(Fixtures.files(), under: root)
        try prepare(root)
        do {
            return try WorkspaceLoader(source: DiskSourceTree(root: root)).load().warnings
        } catch {
            return error.diagnostics
        }
    }

    /// The diagnostics of the fixture workspace on disk with `bytes` added at `path`.
    static func diagnosticsOnDisk(adding bytes: [UInt8], at path: String = hostilePath) throws -> [Diagnostic] {
        try diagnosticsOnDisk { root in
            try Data(bytes).write(to: root.appendingPathComponent(path))
        }
    }

    static func diagnosticsOnDisk(adding text: String, at path: String = hostilePath) throws -> [Diagnostic] {
        try diagnosticsOnDisk(adding: Array(text.utf8), at: path)
    }

    /// The one diagnostic; fails the test when there are none or several.
    static func only(
        _ diagnostics: [Diagnostic], sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws -> Diagnostic {
        try #require(
            diagnostics.count == 1, "expected one diagnostic, got:\n\(describe(diagnostics))",
            sourceLocation: sourceLocation)
        return diagnostics[0]
    }

    // MARK: Alias bombs and nesting

    static let billionLaughs = """
        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
        h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
        i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]

        """

    @Test func aliasBomb_whenLoaded_isRefusedAtTheFirstAnchorWithoutExpanding() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: Self.billionLaughs))
        expect(
            diagnostic, file: Self.hostilePath, line: 1, column: 4,
            message: "YAML anchors and aliases ('&name') are not supported", hint: "alias bombs")
    }

    @Test func alias_whenUsedWithoutAnAnchorInTheFile_isRefusedAtTheAlias() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: "name: x\nlist: [a, *b]\n"))
        expect(
            diagnostic, file: Self.hostilePath, line: 2, column: 11,
            message: "YAML anchors and aliases ('*name') are not supported")
    }

    struct NestingCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var text: String
        /// Where the prescan stops: at the bracket or dash that goes one level too deep.
        var column: Int
    }

    static let deepNesting: [NestingCase] = [
        NestingCase(
            testDescription: "[[[[ 10,000",
            text: String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
            column: 32),
        NestingCase(
            testDescription: "{a: { 10,000",
            text: "a: " + String(repeating: "{a: ", count: 10_000) + "x" + String(repeating: "}", count: 10_000),
            column: 128),
        NestingCase(testDescription: "- - - - 10,000", text: String(repeating: "- ", count: 10_000) + "x", column: 63),
    ]

    @Test(arguments: deepNesting)
    func nesting_when10000Deep_isRefusedAtTheLimitWithoutParsing(_ example: NestingCase) throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: example.text))
        expect(
            diagnostic, file: Self.hostilePath, line: 1, column: example.column,
            message: "the document nests deeper than 32 levels", hint: "generated or damaged")
    }

    /// Block mappings nested `depth` levels, each indented one space more than its parent.
    static func indentedMappings(depth: Int) -> String {
        var text = ""
        for level in 0..<depth { text += String(repeating: " ", count: level) + "k:\n" }
        return text + String(repeating: " ", count: depth) + "v\n"
    }

    @Test func nesting_whenIndentedMappingsGoDeeperThanTheLimit_isRefusedNearTheLimit() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: Self.indentedMappings(depth: 100)))
        #expect(diagnostic.location.file == Self.hostilePath)
        #expect((33...34).contains(diagnostic.location.line), "\(diagnostic)")
        #expect(diagnostic.message == "the document nests deeper than 32 levels")
    }

    /// 10,000 levels of indented mappings need 50 MB of indentation, far past the size limit; 1,400
    /// levels are the deepest that fit in 1 MiB. They must be refused by the nesting limit like any
    /// other deep document, before the parser recurses into them.
    @Test func nesting_whenIndentedMappingsAre1400Deep_isRefusedByTheNestingLimit() throws {
        let text = Self.indentedMappings(depth: 1_400)
        #expect(text.utf8.count < YAMLLimits().maxBytes)
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: text))
        #expect(diagnostic.location.file == Self.hostilePath)
        #expect(diagnostic.location.line <= 34, "\(diagnostic)")
        #expect(diagnostic.message == "the document nests deeper than 32 levels", "\(diagnostic)")
    }

    // MARK: Size

    @Test func hugeFile_when100MB_isRefusedByItsSizeBeforeReading() throws {
        let path = "Environments/sandbox/sites/huge.yaml"
        let size = 100 * 1024 * 1024
        let limit = YAMLLimits().maxBytes
        let root = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Fixtures.write(Fixtures.files(), under: root)
        let url = root.appendingPathComponent(path)
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size))  // sparse: no 100 MB are written
        try handle.close()

        do {
            _ = try DiskSourceTree(root: root).contents(of: path, limit: limit)
            Issue.record("a 100 MB file was read")
        } catch {
            #expect(error.code == .tooLarge(size: size, limit: limit))
            #expect(error.path == path)
        }

        let diagnostics: [Diagnostic]
        do {
            diagnostics = try WorkspaceLoader(source: DiskSourceTree(root: root)).load().warnings
        } catch {
            diagnostics = error.diagnostics
        }
        let diagnostic = try Self.only(diagnostics)
        expect(
            diagnostic, file: path, line: 0, column: 0,
            message: "the file is 104857600 bytes, more than the limit of 1048576", hint: "a few kilobytes")
    }

    @Test func diskSourceTree_whenFileIsExactlyAtTheLimit_readsItAndRefusesOneByteLess() throws {
        let root = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("name: abc\n".utf8).write(to: root.appendingPathComponent("ten.yaml"))
        let tree = DiskSourceTree(root: root)
        #expect(try tree.contents(of: "ten.yaml", limit: 10) == Array("name: abc\n".utf8))
        let error = #expect(throws: SourceTreeError.self) { try tree.contents(of: "ten.yaml", limit: 9) }
        #expect(error?.code == .tooLarge(size: 10, limit: 9))
    }

    @Test func longLine_whenPastTheSizeLimit_isRefusedBySize() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: String(repeating: "x", count: 2_000_000)))
        expect(
            diagnostic, file: Self.hostilePath, line: 0,
            message: "the file is 2000000 bytes, more than the limit of 1048576")
    }

    @Test func longLine_whenUnderTheSizeLimit_isReadAsAValue() throws {
        let description = String(repeating: "x", count: 900_000)
        let files = try Fixtures.files(
            changing: FixturePath.api, "description: A small API service.", to: "description: \(description)")
        let workspace = try Fixtures.load(files)
        #expect(workspace.blueprints["api"]?.description.count == 900_000)
    }

    // MARK: Bytes that are not YAML text

    /// 4 KiB of fixed pseudo-random bytes, NUL and 0xFF included.
    static let garbage: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes: [UInt8] = [0x00, 0xFF, 0xFE]
        for _ in 0..<4096 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 56))
        }
        return bytes
    }()

    @Test func binaryGarbage_whenLoaded_isRefusedAsNotText() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: Self.garbage))
        expect(diagnostic, file: Self.hostilePath, line: 0, message: "the file is not UTF-8 text", hint: "binary file")
    }

    @Test func invalidUTF8_whenLoaded_isRefusedAsNotText() throws {
        let bytes = Array("name: caf".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: bytes))
        expect(diagnostic, file: Self.hostilePath, line: 0, message: "the file is not UTF-8 text")
    }

    @Test func nulByte_inValidUTF8_isRefusedAtItsPlace() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: Array("name: a".utf8) + [0] + Array("b\n".utf8)))
        expect(
            diagnostic, file: Self.hostilePath, line: 1, column: 8,
            message: "the file holds a control character (U+0), so it is not YAML text", hint: "binary file")
    }

    @Test func byteOrderMark_atTheStart_isAccepted() throws {
        var files = Fixtures.files()
        files[FixturePath.api] = "\u{FEFF}" + Fixtures.apiBlueprint
        #expect(errors(files).isEmpty)
    }

    /// Files saved by Windows editors end their lines with CR LF; they are text, not binary.
    @Test func crlfLineEndings_whenLoaded_areAccepted() throws {
        var files = Fixtures.files()
        files[FixturePath.api] = Fixtures.apiBlueprint.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
        let found = errors(files)
        #expect(found.isEmpty, "\(describe(found))")
    }

    // MARK: Entries that are not files

    @Test func blueprintFile_whenAFolder_isReportedNotRead() throws {
        let diagnostic = try Self.only(
            Self.diagnosticsOnDisk { root in
                try FileManager.default.createDirectory(
                    at: root.appendingPathComponent("Blueprints/x.yaml"), withIntermediateDirectories: true)
            })
        expect(
            diagnostic, file: "Blueprints/x.yaml", line: 0, message: "is a folder, not a YAML file",
            hint: "rename or remove it")
    }

    @Test func blueprintFile_whenADanglingLink_isReported() throws {
        let diagnostic = try Self.only(
            Self.diagnosticsOnDisk { root in
                try FileManager.default.createSymbolicLink(
                    atPath: root.appendingPathComponent("Blueprints/y.yaml").path, withDestinationPath: "missing")
            })
        expect(diagnostic, file: "Blueprints/y.yaml", line: 0, message: "is a link to a file that does not exist")
    }

    @Test func blueprintFile_whenANamedPipe_isReportedWithoutOpeningIt() throws {
        let diagnostic = try Self.only(
            Self.diagnosticsOnDisk { root in
                #expect(mkfifo(root.appendingPathComponent("Blueprints/pipe.yaml").path, 0o644) == 0)
            })
        expect(diagnostic, file: "Blueprints/pipe.yaml", line: 0, message: "is not a regular file")
    }

    @Test func diskSourceTree_whenAskedForAFolder_throwsIsFolder() throws {
        let root = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("Blueprints/x.yaml"), withIntermediateDirectories: true)
        let error = #expect(throws: SourceTreeError.self) {
            try DiskSourceTree(root: root).contents(of: "Blueprints/x.yaml", limit: 1 << 20)
        }
        #expect(error?.code == .isFolder)
        #expect(error?.path == "Blueprints/x.yaml")
    }

    // MARK: Documents of the wrong shape

    @Test(arguments: ["", "\n\n", "# only a comment\n"])
    func emptyFile_whenLoaded_isReportedAsEmpty(_ text: String) throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: text))
        expect(diagnostic, file: Self.hostilePath, line: 0, message: "the file is empty")
    }

    @Test func multiDocumentFile_whenLoaded_isRefusedAtTheSecondDocument() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: "name: a\n---\nname: b\n"))
        expect(
            diagnostic, file: Self.hostilePath, line: 2, column: 1,
            message: "the file holds more than one YAML document", hint: "a file of its own")
    }

    @Test func documentStartMarker_beforeTheOnlyDocument_isAccepted() throws {
        var files = Fixtures.files()
        files[FixturePath.api] = "---\n" + Fixtures.apiBlueprint
        #expect(errors(files).isEmpty)
    }

    @Test(arguments: [("- a\n- b\n", "a list"), ("just a value\n", "a single value")])
    func topLevel_whenNotAMapping_isRefused(_ text: String, _ found: String) throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: text))
        #expect(diagnostic.location.file == Self.hostilePath)
        #expect(diagnostic.message == "the blueprint must be a mapping (key: value), found \(found)")
    }

    @Test func documentMarkerAlone_isAnEmptyFile() throws {
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: "---\n"))
        #expect(diagnostic.location.file == Self.hostilePath)
        #expect(diagnostic.message == "the file is empty")
    }

    @Test func siteFile_whenAList_isRefusedAsASite() throws {
        let path = "Environments/sandbox/sites/gamma.yaml"
        let diagnostic = try Self.only(Self.diagnosticsOnDisk(adding: "- name: gamma\n", at: path))
        expect(
            diagnostic, file: path, line: 1, column: 1, message: "the site must be a mapping (key: value), found a list"
        )
    }

    // MARK: Text that only looks hostile

    @Test(arguments: ["\"*not an alias* &nor an anchor\"", "'*not an alias* &nor an anchor'"])
    func anchorsAndAliases_insideQuotedStrings_areNotRefused(_ quoted: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "description: A small API service.", to: "description: \(quoted)")
        let workspace = try Fixtures.load(files)
        #expect(workspace.blueprints["api"]?.description == "*not an alias* &nor an anchor")
    }

    @Test func anchorsAliasesAndBrackets_insideABlockScalar_areNotRefused() throws {
        let deep = String(repeating: "[", count: 40)
        let files = try Fixtures.files(
            changing: FixturePath.api, "      workers: {{ param.workers }}\n",
            to: "      workers: {{ param.workers }}\n      items: *item\n      anchor: &x \(deep)\n      - - - - - -\n")
        let workspace = try Fixtures.load(files)
        let config = try #require(workspace.blueprints["api"]?.configFiles.first)
        let literal = config.template.segments.compactMap { segment -> String? in
            if case .literal(let text) = segment { return text }
            return nil
        }.joined()
        #expect(literal.contains("items: *item\nanchor: &x \(deep)\n"))
    }

    @Test func brackets_insideComments_doNotCountAsNesting() throws {
        let deep = String(repeating: "[", count: 40) + String(repeating: "{", count: 40)
        let files = try Fixtures.files(
            changing: FixturePath.api, "name: api\n", to: "# \(deep) &anchor *alias\nname: api  # \(deep) - - - -\n")
        #expect(errors(files).isEmpty)
    }

    @Test func ampersandAndStars_insideAPlainValue_areNotRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "description: A small API service.", to: "description: Daten & Karten *neu*")
        let workspace = try Fixtures.load(files)
        #expect(workspace.blueprints["api"]?.description == "Daten & Karten *neu*")
    }

    /// A plain value may continue on the next, more indented line; there `*` and `&` are text.
    @Test func anchorsAndAliases_startingAContinuationLine_areNotRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "description: A small API service.",
            to: "description: A small API\n  *important* service.")
        let found = errors(files)
        #expect(found.isEmpty, "\(describe(found))")
    }

    // MARK: Malformed placeholders must not crash later stages

    /// A `dep.` placeholder without an export name is reported by validation; resolving the environment
    /// afterwards must not index past the end of the placeholder's path.
    @Test(arguments: ["{{ dep.api }}", "{{ dep }}"])
    func dependencyPlaceholder_whenIncomplete_isReportedWithoutCrashing(_ placeholder: String) async {
        await #expect(processExitsWith: .success) { [placeholder] in
            var files = Fixtures.files()
            files[FixturePath.web] = Fixtures.webBlueprint.replacingOccurrences(
                of: "api: {{ dep.api.url }}", with: "api: \(placeholder)")
            let found = Fixtures.diagnostics(files)
            guard found.count == 1, found[0].message.contains("must look like dep.DEPENDENCY.EXPORT") else { exit(2) }
        }
    }

    // MARK: Suggestion

    @Test(arguments: [
        ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("same", "same", 0), ("kitten", "sitting", 3), ("ab", "ba", 1),
        ("placment", "placement", 1), ("descripton", "description", 1), ("prot", "port", 1), ("Name", "name", 1),
    ])
    func editDistance_ofTwoWords_countsEditsWithTranspositionsAsOne(_ a: String, _ b: String, _ distance: Int) {
        #expect(Suggestion.editDistance(a, b) == distance)
        #expect(Suggestion.editDistance(b, a) == distance)
    }

    @Test func closest_whenAWordIsATypo_findsTheIntendedWord() {
        #expect(Suggestion.closest(to: "placment", in: ["ports", "placement"]) == "placement")
        #expect(Suggestion.closest(to: "PLACMENT", in: ["ports", "placement"]) == "placement")
        #expect(Suggestion.closest(to: "prot", in: ["port", "path"]) == "port")
        #expect(Suggestion.closest(to: "descriptionxyz", in: ["description"]) == "description")
    }

    @Test func closest_whenNothingIsClose_findsNothing() {
        #expect(Suggestion.closest(to: "xyz", in: ["placement", "ports"]) == nil)
        #expect(Suggestion.closest(to: "descriptionwxyz", in: ["description"]) == nil)  // at most 3 edits
        #expect(Suggestion.closest(to: "mzz", in: ["max"]) == nil)  // short words allow one edit
        #expect(Suggestion.closest(to: "port", in: [String]()) == nil)
    }

    @Test func hint_whenNothingIsClose_listsAFewCandidatesSorted() {
        #expect(Suggestion.hint(for: "soka", in: ["windows", "soak"]) == "did you mean 'soak'?")
        #expect(Suggestion.hint(for: "zzz", in: ["windows", "soak"]) == "expected one of: soak, windows")
        #expect(Suggestion.hint(for: "zzz", in: (1...13).map { "key\($0)" }) == nil)
        #expect(Suggestion.hint(for: "zzz", in: []) == nil)
    }

    // MARK: TimeSpan

    @Test(arguments: [
        ("0", 0), ("0s", 0), ("30s", 30), ("5m", 300), ("1h30m", 5_400), ("7d", 604_800), ("90s", 90),
        ("1d2h3m4s", 93_784), ("999999999s", 999_999_999),
    ])
    func timeSpan_whenWrittenWithUnits_parses(_ text: String, _ seconds: Int) {
        #expect(TimeSpan(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: [
        "", "s", "10", "1x", "-5s", "1.5h", " 5s", "5s ", "5S", "1h 30m", "00", "h5", "1000000000s", "36500d", "٣s",
    ])
    func timeSpan_whenNotADuration_isRefused(_ text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test(arguments: [
        ("90s", "1m30s"), ("3600s", "1h"), ("86401s", "1d1s"), ("100m", "1h40m"), ("25h", "1d1h"), ("0", "0s"),
        ("1h30m", "1h30m"),
    ])
    func timeSpan_description_isTheShortestCanonicalForm(_ text: String, _ canonical: String) {
        #expect(TimeSpan(parsing: text)?.description == canonical)
    }

    @Test func timeSpan_whenCompared_ordersBySeconds() {
        #expect(TimeSpan(seconds: 59) < TimeSpan(seconds: 60))
        #expect(TimeSpan(parsing: "1m") == TimeSpan(parsing: "60s"))
    }

    /// Every number is below a billion, but enough of them add up past `Int.max`; the parser must
    /// refuse the text rather than trap on the overflow.
    @Test func timeSpan_whenTheSumOverflows_isRefusedWithoutCrashing() async {
        await #expect(processExitsWith: .success) {
            guard TimeSpan(parsing: String(repeating: "999999999d", count: 110_000)) == nil else { exit(2) }
        }
    }

    // MARK: Templates, read through loading

    /// Segments as text: `literal` as is, a reference as `{NAME@LINE:COLUMN}`.
    static func outline(_ template: Template) -> [String] {
        template.segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .reference(let reference):
                "{\(reference.text)@\(reference.location.line):\(reference.location.column)}"
            }
        }
    }

    @Test func template_inAnExport_splitsIntoTextAndLocatedPlaceholders() throws {
        let workspace = try Fixtures.load(Fixtures.files())
        let export = try #require(workspace.blueprints["api"]?.exports.first)
        #expect(export.name.value == "url")
        #expect(Self.outline(export.value) == ["http://", "{node.address@25:15}", ":", "{param.port@25:34}"])
        #expect(export.value.references.allSatisfy { $0.location.file == FixturePath.api })
    }

    @Test func template_inABlockScalar_locatesEachPlaceholderOnItsLine() throws {
        let workspace = try Fixtures.load(Fixtures.files())
        let config = try #require(workspace.blueprints["api"]?.configFiles.first)
        #expect(
            Self.outline(config.template) == [
                "port: ", "{param.port@16:13}", "\nurl: ", "{param.public_url@17:12}", "\ntoken: ",
                "{param.token@18:14}", "\nworkers: ", "{param.workers@19:16}", "\n",
            ])
    }

    @Test func template_withOddSpacingAndBraces_parsesPlaceholdersOnly() throws {
        let files = try Fixtures.files(
            changing: FixturePath.web, "args: [web, --api, \"{{ dep.api.url }}\"]",
            to: "args: [web, \"--port={{param.port}}\", \"{{  site.name  }}{{ node.name }}\", \"{ x }\", \"}}\","
                + " \"{{\"]")
        let found = errors(files)
        // The last argument opens a placeholder it never closes.
        try #require(found.count == 1, "\(describe(found))")
        expect(found[0], file: FixturePath.web, line: 5, message: "unclosed placeholder")

        let valid = try Fixtures.files(
            changing: FixturePath.web, "args: [web, --api, \"{{ dep.api.url }}\"]",
            to: "args: [web, \"--port={{param.port}}\", \"{{  site.name  }}{{ node.name }}\", \"{ x }\", \"}}\"]")
        let workspace = try Fixtures.load(valid)
        let arguments = try #require(workspace.blueprints["web"]?.component.arguments)
        let text = valid[FixturePath.web]
        let port = try position(of: "{{param.port}}", in: text)
        let site = try position(of: "{{  site.name  }}", in: text)
        let node = try position(of: "{{ node.name }}", in: text)
        #expect(
            arguments.map { Self.outline($0) } == [
                ["web"], ["--port=", "{param.port@5:\(port.column)}"],
                ["{site.name@5:\(site.column)}", "{node.name@5:\(node.column)}"], ["{ x }"], ["}}"],
            ])
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let web = try #require(
            sandbox.sites.first { $0.name == "alpha" }?.nodes.first?.instances.first { $0.service == "web" })
        #expect(web.arguments == ["web", "--port=9002", "alphaalpha-1", "{ x }", "}}"])
    }

    @Test func template_withASecretParameter_rendersAMarkerAndTightensTheMode() throws {
        let workspace = try Fixtures.load(Fixtures.files())
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let api = try #require(
            sandbox.sites.first { $0.name == "alpha" }?.nodes.first?.instances.first { $0.service == "api" })
        let config = try #require(api.configFiles.first)
        #expect(config.path == "api.yaml")
        #expect(
            config.content == "port: 9001\nurl: https://api.alpha.example\ntoken: {{secret:alpha-token}}\nworkers: 4\n")
        #expect(config.mode == 0o600)
    }

    @Test func template_withASpaceInsideAName_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "url: {{ param.public_url }}", to: "url: {{ param. public_url }}")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 17, column: 12,
            message: "placeholder '{{param. public_url}}' is not a name like param.port")
    }
}
