import Foundation
import Model
import StellwerkAPI
import TestSupport
import Testing
import WorkspaceFiles

/// One failing example per validation rule: each starts from the valid fixture workspace, changes one
/// thing, and checks the file, line, column, message and hint of what loading reports.
@Suite struct ValidationRuleTests {
    // MARK: YAML

    @Test func yaml_whenFlowListIsNotClosed_reportsTheSyntaxErrorInThatFile() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  args: [api, --config, api.yaml]", to: "  args: [api, --config, api.yaml")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        // libyaml notices the missing ']' at the next token, the ':' after `parameters` on line 6.
        expect(
            diagnostic, file: FixturePath.api, line: 6, column: 11,
            message: "invalid YAML: did not find expected ',' or ']'")
        #expect(diagnostic.message.contains("while parsing a flow sequence at line 5"))
    }

    @Test func yaml_whenKeyAppearsTwice_reportsTheDuplicateKey() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "description: A small API service.\n",
            to: "description: A small API service.\ndescription: Again.\n")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        // The repeat is reported where it stands; the hint names the first.
        expect(
            diagnostic, file: FixturePath.api, line: 3, column: 1,
            message: "duplicate key 'description' in one mapping",
            hint: "each key may appear once; the first is at line 2")
    }

    @Test func yaml_whenNestedKeyAppearsTwice_reportsItInsideTheNestedMapping() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "labels: {role: app}", to: "labels:\n      role: app\n      role: db")
        let diagnostic = try onlyError(files, in: FixturePath.alpha)
        expect(diagnostic, file: FixturePath.alpha, line: 8, column: 7, message: "duplicate key 'role' in one mapping")
    }

    // MARK: Keys and types

    struct UnknownKeyCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var path: String
        var old: String
        var new: String
        var key: String
        var context: String
        var suggestion: String
    }

    static let unknownKeys: [UnknownKeyCase] = [
        UnknownKeyCase(
            testDescription: "top level", path: FixturePath.api, old: "placement:", new: "placment:", key: "placment",
            context: "the blueprint", suggestion: "placement"),
        UnknownKeyCase(
            testDescription: "parameter", path: FixturePath.api, old: "min: 1, max: 64", new: "mni: 1, max: 64",
            key: "mni", context: "parameter 'workers' of blueprint 'api'", suggestion: "min"),
        UnknownKeyCase(
            testDescription: "site service", path: FixturePath.alpha, old: "  web:\n    parameters:",
            new: "  web:\n    placment: {labels: {role: app}}\n    parameters:", key: "placment",
            context: "service 'web' of site 'alpha'", suggestion: "placement"),
        UnknownKeyCase(
            testDescription: "rollout", path: FixturePath.sandbox, old: "canary: 1", new: "canery: 1", key: "canery",
            context: "rollout of environment 'sandbox'", suggestion: "canary"),
        UnknownKeyCase(
            testDescription: "promotion", path: FixturePath.live, old: "soak: 24h", new: "saok: 24h", key: "saok",
            context: "promotion of environment 'live'", suggestion: "soak"),
        UnknownKeyCase(
            testDescription: "node", path: FixturePath.alpha, old: "    labels: {role: app}",
            new: "    labels: {role: app}\n    adress: 127.0.1.2", key: "adress", context: "a node of site 'alpha'",
            suggestion: "address"),
    ]

    @Test(arguments: unknownKeys)
    func unknownKey_whenMisspelt_isReportedAtTheKeyWithDidYouMean(_ example: UnknownKeyCase) throws {
        let files = try Fixtures.files(changing: example.path, example.old, to: example.new)
        let diagnostic = try onlyError(files)
        let at = try position(of: "\(example.key):", in: files[example.path])
        expect(
            diagnostic, file: example.path, line: at.line, column: at.column,
            message: "unknown key '\(example.key)' in \(example.context)")
        #expect(diagnostic.hint == "did you mean '\(example.suggestion)'?")
    }

    @Test func unknownKey_inAParameter_isTheOnlyError_notAMissingValueAtEverySite() throws {
        // A misspelt `default:` would otherwise make the parameter required, and every site that relies
        // on the default would get an error of its own for one typo in the blueprint.
        let files = try Fixtures.files(
            changing: FixturePath.api, "port: {type: port, default: 9001}", to: "port: {type: port, defualt: 9001}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "defualt:", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "unknown key 'defualt' in parameter 'port' of blueprint 'api'")
        #expect(diagnostic.hint == "did you mean 'default'?")
    }

    @Test func unknownKey_whenNothingIsClose_listsTheAllowedKeys() throws {
        let files = try Fixtures.files(changing: FixturePath.live, "soak: 24h", to: "zzz: 24h")
        let diagnostic = try onlyError(files)
        #expect(diagnostic.hint == "expected one of: approvals, canary_site, max_sites_in_flight, soak, windows")
    }

    @Test func requiredKey_whenMissing_isReportedAtTheMapping() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "description: A small API service.\n", to: "")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 1, column: 1, message: "missing key 'description' in the blueprint"
        )
    }

    @Test func requiredKey_whenMissingInANode_isReportedAtTheNode() throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "    address: 127.0.1.1\n", to: "")
        let diagnostic = try error(containing: "missing key", in: files)
        let at = try position(of: "name: alpha-1", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "missing key 'address' in a node of site 'alpha'")
    }

    @Test func value_whenListGivenForASingleValue_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "description: A small API service.", to: "description: [a, b]")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 2, column: 14,
            message: "'description' in the blueprint must be a single value, found a list")
    }

    @Test func int_whenNotANumber_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.sandbox, "canary: 1", to: "canary: one")
        let diagnostic = try onlyError(files)
        let at = try position(of: "one,", in: files[FixturePath.sandbox])
        expect(
            diagnostic, file: FixturePath.sandbox, line: at.line, column: at.column,
            message: "'canary' in rollout of environment 'sandbox' must be a whole number, found 'one'")
    }

    @Test func int_whenOutOfRange_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.sandbox, "canary: 1", to: "canary: -1")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.sandbox, line: 4,
            message: "'canary' in rollout of environment 'sandbox' must be between 0 and 10000, found -1")
    }

    @Test func bool_whenYes_isRefusedWithTheNorwayHint() throws {
        let files = try Fixtures.files(changing: FixturePath.live, "windows: true", to: "windows: yes")
        let diagnostic = try onlyError(files)
        let at = try position(of: "yes", in: files[FixturePath.live])
        expect(
            diagnostic, file: FixturePath.live, line: at.line, column: at.column,
            message: "'windows' in promotion of environment 'live' must be true or false, found 'yes'",
            hint: "yes/no/on/off are not accepted")
    }

    // MARK: Files and names

    @Test func blueprintName_whenDefinedInTwoFiles_isReportedInTheSecond() throws {
        var files = Fixtures.files()
        files["Blueprints/api2.yaml"] = Fixtures.apiBlueprint
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: "Blueprints/api2.yaml", line: 1, column: 7,
            message: "a blueprint named 'api' is already defined in Blueprints/api.yaml")
    }

    @Test func blueprintFile_whenNamedOtherThanTheBlueprint_isReportedWithTheRightName() throws {
        var files = Fixtures.files()
        files["Blueprints/apis.yaml"] = files.removeValue(forKey: FixturePath.api)
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: "Blueprints/apis.yaml", line: 1, column: 7,
            message: "blueprint 'api' is in a file named apis.yaml")
        #expect(diagnostic.hint == "name the file after the blueprint: api.yaml")
    }

    @Test func siteFile_whenNamedOtherThanTheSite_isReportedWithTheRightName() throws {
        var files = Fixtures.files()
        files["Environments/sandbox/sites/gamma.yaml"] = files.removeValue(forKey: FixturePath.beta)
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: "Environments/sandbox/sites/gamma.yaml", line: 1, column: 7,
            message: "site 'beta' is in a file named gamma.yaml")
        #expect(diagnostic.hint == "name the file after the site: beta.yaml")
    }

    @Test func environmentFolder_whenNamedOtherThanTheEnvironment_isReported() throws {
        let files = try Fixtures.files(changing: FixturePath.sandbox, "name: sandbox", to: "name: staging")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.sandbox, line: 1, column: 7,
            message: "environment 'staging' is in the folder sandbox",
            hint: "the folder must carry the environment's name")
    }

    @Test func name_whenUppercase_isRefusedWithTheNamingRule() throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "- name: alpha-1", to: "- name: Alpha-1")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 4, column: 11,
            message: "'name' in a node of site 'alpha' is 'Alpha-1', which is not a valid name")
        #expect(diagnostic.hint == Names.rule)
    }

    @Test func blueprintName_whenUppercase_isRefusedAtTheName() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "name: api", to: "name: API")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        expect(
            diagnostic, file: FixturePath.api, line: 1, column: 7,
            message: "'name' in the blueprint is 'API', which is not a valid name", hint: "lowercase")
    }

    @Test(arguments: ["../api.yaml", "/etc/api.yaml", "conf/../../api.yaml", "conf/"])
    func configPath_whenLeavingTheInstanceFolder_isRefused(_ path: String) throws {
        let files = try Fixtures.files(changing: FixturePath.api, "- path: api.yaml", to: "- path: \(path)")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 14, column: 11,
            message: "config path '\(path)' must stay inside the instance's folder", hint: "without '..'")
    }

    // MARK: References between files

    @Test func siteService_whenNamingAnUnknownBlueprint_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "  web:\n    parameters:", to: "  web:\n    blueprint: wbe\n    parameters:")
        let diagnostic = try onlyError(files)
        let at = try position(of: "wbe", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "service 'web' at site 'alpha' uses the blueprint 'wbe', which does not exist")
        #expect(diagnostic.hint == "did you mean 'web'?")
    }

    @Test func dependency_whenNamingAnUnknownBlueprint_isReportedAtTheDependency() throws {
        let files = try Fixtures.files(
            changing: FixturePath.web, "  - blueprint: api", to: "  - blueprint: apx\n    as: api")
        let diagnostic = try error(containing: "depends on", in: files)
        expect(
            diagnostic, file: FixturePath.web, line: 17, column: 16,
            message: "blueprint 'web' depends on the blueprint 'apx', which does not exist")
        #expect(diagnostic.hint == "did you mean 'api'?")
    }

    @Test func dependencies_whenFormingACycleOfTwo_nameTheCycle() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "migrations:", to: "dependencies:\n  - blueprint: web\nmigrations:")
        let diagnostic = try onlyError(files)
        let at = try position(of: "web\nmigrations:", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "blueprints depend on each other in a cycle: api → web → api", hint: "break the cycle")
    }

    @Test func dependencies_whenFormingACycleOfThree_nameEveryBlueprintOnce() throws {
        var files = try Fixtures.files(
            changing: FixturePath.api, "migrations:", to: "dependencies:\n  - blueprint: db\nmigrations:")
        files["Blueprints/db.yaml"] = Fixtures.apiBlueprint
            .replacingOccurrences(of: "name: api", with: "name: db")
            .replacingOccurrences(of: "migrations:", with: "dependencies:\n  - blueprint: web\nmigrations:")
        let cycles = errors(files).filter { $0.message.contains("cycle") }
        try #require(cycles.count == 1, "\(describe(errors(files)))")
        expect(cycles[0], file: FixturePath.api, line: 23, column: 16, message: "cycle: api → db → web → api")
    }

    @Test func dependency_whenOnItself_isACycle() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "migrations:", to: "dependencies:\n  - blueprint: api\nmigrations:")
        let diagnostic = try onlyError(files)
        expect(diagnostic, file: FixturePath.api, line: 23, column: 16, message: "cycle: api → api")
    }

    @Test func promotesTo_whenNamingAnUnknownEnvironment_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.sandbox, "promotes_to: live", to: "promotes_to: lvie")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.sandbox, line: 3, column: 14,
            message: "environment 'sandbox' promotes to 'lvie', which does not exist")
        #expect(diagnostic.hint == "did you mean 'live'?")
    }

    @Test func promotesTo_whenNamingItself_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.sandbox, "promotes_to: live", to: "promotes_to: sandbox")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.sandbox, line: 3, column: 14,
            message: "environment 'sandbox' promotes to itself")
    }

    @Test func promotesTo_whenCircular_namesTheCircleOnce() throws {
        let files = try Fixtures.files(
            changing: FixturePath.live, "description: Production.", to: "description: Production.\npromotes_to: sandbox"
        )
        let found = errors(files)
        try #require(found.count == 1, "\(describe(found))")
        expect(
            found[0], file: FixturePath.live, line: 3, column: 14,
            message: "environments promote in a circle: live → sandbox → live",
            hint: "the last stage promotes to nothing; remove its promotes_to")
    }

    @Test func canarySite_whenNotASiteOfTheEnvironment_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.live, "canary_site: alpha", to: "canary_site: alhpa")
        let diagnostic = try onlyError(files)
        let at = try position(of: "alhpa", in: files[FixturePath.live])
        expect(
            diagnostic, file: FixturePath.live, line: at.line, column: at.column,
            message: "canary_site 'alhpa' is not a site of environment 'live'")
        #expect(diagnostic.hint == "did you mean 'alpha'?")
    }

    // MARK: Parameters

    @Test func requiredParameter_whenMissing_isReportedAtTheService() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "      public_url: https://api.alpha.example\n", to: "")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 8, column: 3,
            message: "service 'api' at site 'alpha' needs a value for the required parameter 'public_url' (url)",
            hint: "add it under parameters:")
    }

    @Test func requiredSecret_whenMissing_hintsAtASecretReference() throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "      token: {secret: alpha-token}\n", to: "")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 8, column: 3,
            message: "needs a value for the required parameter 'token' (secret)")
        #expect(diagnostic.hint == "add under parameters: token: {secret: NAME}")
    }

    @Test func siteParameter_whenTheBlueprintDoesNotDeclareIt_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "title: Daten Alpha", to: "titel: Daten Alpha")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 14, column: 7,
            message: "service 'web' at site 'alpha' sets 'titel', which blueprint 'web' does not declare")
        #expect(diagnostic.hint == "did you mean 'title'?")
    }

    struct ValueCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var parameter: String
        var value: String
        var message: String
        var hint: String? = nil
    }

    static let badValues: [ValueCase] = [
        ValueCase(
            testDescription: "int below min", parameter: "workers", value: "0",
            message: "'0' of parameter 'workers' (int) is less than the minimum 1"),
        ValueCase(
            testDescription: "int above max", parameter: "workers", value: "65",
            message: "'65' of parameter 'workers' (int) is more than the maximum 64"),
        ValueCase(
            testDescription: "int not a number", parameter: "workers", value: "four",
            message: "'four' of parameter 'workers' (int) is not a whole number"),
        ValueCase(
            testDescription: "port 70000", parameter: "port", value: "70000",
            message: "'70000' of parameter 'port' (port) is not a port number (1 to 65535)"),
        ValueCase(
            testDescription: "port 0", parameter: "port", value: "0",
            message: "'0' of parameter 'port' (port) is not a port number (1 to 65535)"),
        ValueCase(
            testDescription: "bool yes", parameter: "tls", value: "yes",
            message: "'yes' of parameter 'tls' (bool) is not true or false", hint: "yes/no/on/off"),
        ValueCase(
            testDescription: "enum not in values", parameter: "mode", value: "fsat",
            message: "'fsat' of parameter 'mode' (enum) is not one of fast, safe", hint: "did you mean 'fast'?"),
        ValueCase(
            testDescription: "duration garbage", parameter: "timeout", value: "soon",
            message: "'soon' of parameter 'timeout' (duration) is not a duration", hint: TimeSpan.syntaxHint),
        ValueCase(
            testDescription: "duration above max", parameter: "timeout", value: "2h",
            message: "'2h' of parameter 'timeout' (duration) is longer than the maximum 1h"),
        ValueCase(
            testDescription: "url without scheme", parameter: "public_url", value: "api.alpha.example",
            message: "the value of parameter 'public_url' (url) is not a URL like https://host/path"),
        ValueCase(
            testDescription: "url scheme", parameter: "public_url", value: "ftp://api.alpha.example",
            message: "of parameter 'public_url' (url) uses the scheme 'ftp'", hint: "allowed: http, https"),
        ValueCase(
            testDescription: "string pattern", parameter: "slug", value: "ABC",
            message: "'ABC' of parameter 'slug' (string) does not match the pattern [a-z]+"),
        ValueCase(
            testDescription: "string too long", parameter: "slug", value: "abcdefghijk",
            message: "of parameter 'slug' (string) is longer than 10 characters"),
        ValueCase(
            testDescription: "database_url password", parameter: "database",
            value: "postgres://api:hunter2@db.example:5432/api",
            message: "the value of parameter 'database' (database_url) holds a password", hint: "{secret: NAME}"),
        ValueCase(
            testDescription: "sqlite ..", parameter: "database", value: "sqlite:../other/api.sqlite",
            message: "the value of parameter 'database' (database_url) must name a file inside the instance's folder",
            hint: "without '..'"),
        ValueCase(
            testDescription: "sqlite absolute", parameter: "database", value: "sqlite:/var/lib/api.sqlite",
            message: "must name a file inside the instance's folder"),
        ValueCase(
            testDescription: "database_url scheme", parameter: "database", value: "mysql://db.example/api",
            message: "the value of parameter 'database' (database_url) is not a database URL"),
    ]

    /// The fixtures with more parameter types on `api`, and `alpha` setting `parameter` to `value`
    /// on the first line of its `api` parameters.
    static func files(setting parameter: String, to value: String) throws -> [String: String] {
        var files = try Fixtures.files(
            changing: FixturePath.api, "  database: {type: database_url, default: \"sqlite:data/api.sqlite\"}\n",
            to: """
                  database: {type: database_url, default: "sqlite:data/api.sqlite"}
                  timeout: {type: duration, default: 30s, max: 1h}
                  slug: {type: string, default: abc, pattern: "[a-z]+", max_length: 10}
                  tls: {type: bool, default: false}

                """)
        files = try Fixtures.files(
            changing: FixturePath.alpha, "  api:\n    parameters:\n",
            to: "  api:\n    parameters:\n      \(parameter): \(value)\n", in: files)
        if parameter == "public_url" {
            files = try Fixtures.files(
                changing: FixturePath.alpha, "      public_url: https://api.alpha.example\n", to: "", in: files)
        }
        return files
    }

    @Test func parameterTypes_whenExtended_stillLoad() throws {
        #expect(errors(try Self.files(setting: "workers", to: "8")).isEmpty)
    }

    @Test(arguments: badValues)
    func parameterValue_whenViolatingItsType_isRefusedAtTheValue(_ example: ValueCase) throws {
        let files = try Self.files(setting: example.parameter, to: example.value)
        let diagnostic = try onlyError(files)
        let at = try position(of: "\(example.parameter): \(example.value)\n", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: 10, column: at.column + example.parameter.count + 2,
            message: example.message, hint: example.hint)
    }

    @Test func secretParameter_whenGivenAPlainValue_isRefusedWithoutRepeatingTheValue() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "token: {secret: alpha-token}", to: "token: s3cr3t-plain-value")
        let diagnostic = try onlyError(files)
        let at = try position(of: "s3cr3t-plain-value", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "the value of parameter 'token' (secret) is a plain value, but the parameter is a secret",
            hint: "{secret: NAME}")
        #expect(!diagnostic.description.contains("s3cr3t"))
    }

    @Test func databaseURL_whenItHoldsAPassword_doesNotRepeatThePassword() throws {
        let files = try Self.files(setting: "database", to: "postgres://api:hunter2@db.example/api")
        let diagnostic = try onlyError(files)
        #expect(diagnostic.message.contains("holds a password"))
        #expect(!diagnostic.description.contains("hunter2"))
    }

    /// A URL parameter with credentials is refused, and the refusal must not copy the password into
    /// the output (terminals, CI logs).
    @Test func urlParameter_whenItHoldsAPassword_doesNotRepeatThePassword() throws {
        let files = try Self.files(setting: "public_url", to: "https://deploy:hunter2@api.alpha.example")
        let diagnostic = try onlyError(files)
        expect(diagnostic, file: FixturePath.alpha, line: 10, column: 19, message: "holds a password")
        #expect(!diagnostic.description.contains("hunter2"))
    }

    @Test(arguments: ["url", "database_url"])
    func parameterDefault_whenItHoldsAPassword_doesNotRepeatThePassword(_ type: String) throws {
        let files =
            type == "url"
            ? try Fixtures.files(
                changing: FixturePath.api, "public_url: {type: url}",
                to: "public_url: {type: url, default: \"https://deploy:hunter2@h.example\"}")
            : try Fixtures.files(
                changing: FixturePath.api, "default: \"sqlite:data/api.sqlite\"",
                to: "default: \"postgres://api:hunter2@db.example/api\"")
        let diagnostic = try onlyError(files)
        let at = try position(of: "hunter2", in: files[FixturePath.api])
        #expect(diagnostic.location.file == FixturePath.api)
        #expect(diagnostic.location.line == at.line)
        #expect(diagnostic.message.contains("holds a password"))
        #expect(!diagnostic.description.contains("hunter2"))
    }

    @Test func secretParameter_whenGivenADefault_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "token: {type: secret}", to: "token: {type: secret, default: hunter2}")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 9,
            message: "parameter 'token' is a secret and cannot have a default")
        #expect(!diagnostic.description.contains("hunter2"))
    }

    @Test func secretReference_whenGivenForANonSecretType_isRefused() throws {
        let files = try Self.files(setting: "workers", to: "{secret: alpha-workers}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "alpha-workers", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "parameter 'workers' is of type int and takes a plain value, not a secret reference")
    }

    @Test func parameterType_whenMisspelt_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "mode: {type: enum", to: "mode: {type: enmu")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 11, column: 16,
            message: "unknown parameter type 'enmu' for parameter 'mode'")
        #expect(diagnostic.hint == "did you mean 'enum'?")
    }

    // MARK: Nodes and placement

    @Test func port_whenClaimedTwiceOnOneNode_isReportedAtTheSecondService() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "title: Daten Alpha", to: "title: Daten Alpha\n      port: 9001")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 12, column: 3,
            message: "services 'api' and 'web' both claim port 9001 on node 'alpha-1'", hint: "'http' port")
    }

    @Test func placement_whenMatchingNoNode_namesTheLabelsEachNodeHas() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "  web:\n    parameters:",
            to: "  web:\n    placement: {labels: {role: db}}\n    parameters:")
        let diagnostic = try onlyError(files)
        let at = try position(of: "role: db", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "service 'web' at site 'alpha' must run on nodes labelled role=db, and site 'alpha' has none")
        #expect(diagnostic.hint == "alpha-1 has role=app")
    }

    @Test func nodeName_whenUsedAtTwoSitesOfOneEnvironment_isReported() throws {
        let files = try Fixtures.files(changing: FixturePath.beta, "- name: beta-1", to: "- name: alpha-1")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.beta, line: 4, column: 11,
            message: "node 'alpha-1' is already declared at site 'alpha' of environment 'sandbox'")
    }

    @Test func nodeAddress_whenUsedTwiceInOneEnvironment_isReported() throws {
        let files = try Fixtures.files(changing: FixturePath.beta, "address: 127.0.2.1", to: "address: 127.0.1.1")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.beta, line: 5, column: 14,
            message: "node 'beta-1' has the address 127.0.1.1, which node 'alpha-1' already has")
    }

    @Test func nodeAddress_whenNotAHostName_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "address: 127.0.1.1", to: "address: \"not an address\"")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 5, column: 14,
            message: "the address 'not an address' of node 'alpha-1' is not a host name or IP address")
    }

    @Test func dependency_whenNoSiteRunsIt_isReportedAtTheConsumer() throws {
        let files = try Fixtures.files(
            changing: FixturePath.beta, "    dependencies:\n      api: {site: alpha}\n", to: "")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.beta, line: 8, column: 3,
            message: "service 'web' at site 'beta' needs 'api', but site 'beta' runs none",
            hint: "dependencies: {api: {site: SITE}}")
    }

    @Test func dependencySite_whenNotASiteOfTheEnvironment_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.beta, "api: {site: alpha}", to: "api: {site: alpah}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "alpah", in: files[FixturePath.beta])
        expect(
            diagnostic, file: FixturePath.beta, line: at.line, column: at.column,
            message:
                "service 'web' at site 'beta' finds 'api' at site 'alpah', which is not a site of environment 'sandbox'"
        )
        #expect(diagnostic.hint == "did you mean 'alpha'?")
    }

    // MARK: Templates

    @Test func placeholder_whenNamingAnUnknownParameter_pointsIntoTheBlockScalar() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "workers: {{ param.workers }}", to: "workers: {{ param.wrokers }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.wrokers }}", in: files[FixturePath.api])
        let templateKey = try position(of: "template: |", in: files[FixturePath.api])
        #expect(at.line != templateKey.line)
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "the placeholder {{ param.wrokers }} names a parameter that blueprint 'api' does not declare")
        #expect(diagnostic.hint == "did you mean 'workers'?")
    }

    @Test func placeholder_whenUsingAnUnknownNamespace_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "workers: {{ param.workers }}", to: "workers: {{ parm.workers }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ parm.workers }}", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "the placeholder {{ parm.workers }} uses an unknown namespace 'parm'")
        #expect(diagnostic.hint == "did you mean 'param'?")
    }

    @Test func placeholder_whenNamingAnUnknownNodeField_listsTheKnownOnes() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "url: {{ param.public_url }}", to: "url: {{ node.ip }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ node.ip }}", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "the placeholder {{ node.ip }} names nothing known", hint: "node.name, node.address")
    }

    @Test func placeholder_whenReadingADependencyInAnExport_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "url: http://{{ node.address }}", to: "url: http://{{ dep.web.url }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ dep.web.url }}", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "the placeholder {{ dep.web.url }} cannot be used in an export")
    }

    @Test func placeholder_whenNamingAnUnknownExport_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(
            changing: FixturePath.web, "api: {{ dep.api.url }}", to: "api: {{ dep.api.uri }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ dep.api.uri }}", in: files[FixturePath.web])
        expect(
            diagnostic, file: FixturePath.web, line: at.line, column: at.column,
            message: "the placeholder {{ dep.api.uri }} names an export that blueprint 'api' does not declare")
        #expect(diagnostic.hint == "did you mean 'url'?")
    }

    @Test func placeholder_inAQuotedArgument_pointsAtThePlaceholder() throws {
        let files = try Fixtures.files(
            changing: FixturePath.web, "\"{{ dep.api.url }}\"", to: "\"{{ dep.api.uri }}\"")
        let diagnostic = try onlyError(files)
        expect(diagnostic, file: FixturePath.web, line: 5, column: 23, message: "{{ dep.api.uri }}")
    }

    @Test func placeholder_whenNotClosed_pointsAtItsOpening() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "workers: {{ param.workers }}", to: "workers: {{ param.workers")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.workers", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "unclosed placeholder: '{{' without '}}'", hint: "{{ param.port }}")
    }

    @Test func placeholder_whenEmpty_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "url: {{ param.public_url }}", to: "url: {{ }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ }}", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "is not a name like param.port")
    }

    @Test func placeholder_afterABlankFirstLine_pointsAtItsLine() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "template: |\n      port: {{ param.port }}",
            to: "template: |\n\n      port: {{ param.prot }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.prot }}", in: files[FixturePath.api])
        expect(diagnostic, file: FixturePath.api, line: at.line, column: at.column, message: "{{ param.prot }}")
    }

    @Test func placeholder_inAFoldedBlockScalar_pointsAtItsLine() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "template: |\n      port: {{ param.port }}\n      url: {{ param.public_url }}",
            to: "template: >\n      port: {{ param.port }}\n      url: {{ param.pubilc_url }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.pubilc_url }}", in: files[FixturePath.api])
        expect(diagnostic, file: FixturePath.api, line: at.line, column: at.column, message: "{{ param.pubilc_url }}")
    }

    @Test func placeholder_inABlockScalarWithAnIndentationIndicator_pointsAtItsColumn() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "template: |\n      port: {{ param.port }}",
            to: "template: |2\n        port: {{ param.prot }}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "{{ param.prot }}", in: files[FixturePath.api])
        expect(diagnostic, file: FixturePath.api, line: at.line, column: at.column, message: "{{ param.prot }}")
    }

    // MARK: Health, ports and rollout

    @Test func healthCheck_whenUsingAnUndeclaredPort_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.web, "tcp: {port: http}", to: "tcp: {port: htp}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "htp", in: files[FixturePath.web])
        expect(
            diagnostic, file: FixturePath.web, line: at.line, column: at.column,
            message: "the health check uses the port 'htp', which blueprint 'web' does not declare under ports")
        #expect(diagnostic.hint == "did you mean 'http'?")
    }

    @Test func port_whenNamingANonPortParameter_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "  http: port", to: "  http: workers")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 27, column: 9,
            message: "port 'http' names the parameter 'workers', which is of type int, not port")
    }

    @Test func port_whenNamingAnUndeclaredParameter_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.api, "  http: port", to: "  http: prot")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.api, line: 27, column: 9,
            message: "port 'http' names the parameter 'prot', which blueprint 'api' does not declare")
        #expect(diagnostic.hint == "did you mean 'port'?")
    }

    @Test func healthTimeout_whenLongerThanTheInterval_isRefusedAtTheTimeout() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "  http: {port: http, path: /health}",
            to: "  http: {port: http, path: /health}\n  interval: 5s\n  timeout: 10s")
        let diagnostic = try onlyError(files)
        let at = try position(of: "timeout: 10s", in: files[FixturePath.api])
        expect(
            diagnostic, file: FixturePath.api, line: at.line, column: at.column,
            message: "the health timeout (10s) is longer than its interval (5s)")
    }

    @Test(arguments: ["5m", "10m"])
    func minHealthyTime_whenNotShorterThanHealthyDeadline_isRefused(_ minHealthy: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.sandbox, "max_in_flight: 50%}",
            to: "max_in_flight: 50%, min_healthy_time: \(minHealthy), healthy_deadline: 5m}")
        let diagnostic = try onlyError(files)
        let at = try position(of: "min_healthy_time", in: files[FixturePath.sandbox])
        expect(
            diagnostic, file: FixturePath.sandbox, line: at.line, column: at.column,
            message: "min_healthy_time (\(minHealthy)) must be shorter than healthy_deadline (5m)")
    }

    @Test(arguments: ["0", "150%", "0%", "many"])
    func maxInFlight_whenOutOfRange_isRefused(_ value: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.sandbox, "max_in_flight: 50%", to: "max_in_flight: \"\(value)\"")
        let diagnostic = try onlyError(files)
        let at = try position(of: "\"\(value)\"", in: files[FixturePath.sandbox])
        expect(
            diagnostic, file: FixturePath.sandbox, line: at.line, column: at.column,
            message: "max_in_flight must be a count of at least 1 or a percentage from 1% to 100%, found '\(value)'")
    }

    // MARK: Maintenance windows

    @Test func maintenanceWindow_whenNamingABadWeekday_isReportedWithDidYouMean() throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "days: [tue, thu]", to: "days: [tue, thr]")
        let diagnostic = try onlyError(files)
        let at = try position(of: "thr", in: files[FixturePath.alpha])
        expect(diagnostic, file: FixturePath.alpha, line: at.line, column: at.column, message: "'thr' is not a weekday")
        #expect(diagnostic.hint == "did you mean 'thu'?")
    }

    @Test(arguments: ["24:00", "7:00", "20:60", "8pm"])
    func maintenanceWindow_whenGivenABadTime_isRefused(_ time: String) throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "to: \"23:00\"", to: "to: \"\(time)\"")
        let diagnostic = try onlyError(files)
        let at = try position(of: "\"\(time)\"", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "'\(time)' is not a time of day", hint: "HH:MM")
    }

    @Test func maintenanceWindow_whenOpeningAndClosingAtOnce_isRefused() throws {
        let files = try Fixtures.files(changing: FixturePath.alpha, "from: \"20:00\"", to: "from: \"23:00\"")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: FixturePath.alpha, line: 18, column: 9,
            message: "a maintenance window cannot open and close at the same time")
    }

    // MARK: Site templates

    static let townTemplate = """
        name: "{{ onboard.name }}"
        display_name: "{{ onboard.display_name }}"
        nodes:
          - name: "{{ onboard.name }}-1"
            address: "{{ onboard.name }}-1.{{ onboard.domain }}"
            labels: {role: app}
        maintenance_windows:
          - {days: [tue], from: "20:00", to: "23:00"}
        services:
          web:
            dependencies:
              api: {site: alpha}

        """

    @Test func siteTemplate_whenValid_isLoadedAndListed() throws {
        var files = Fixtures.files()
        files["Blueprints/templates/town.yaml"] = Self.townTemplate
        let workspace = try Fixtures.load(files)
        #expect(workspace.siteTemplates == ["Blueprints/templates/town.yaml"])
        #expect(workspace.blueprints.keys.sorted() == ["api", "web"])
    }

    @Test func siteTemplate_whenUsingAMissingBlueprint_isReportedOnceForAllEnvironments() throws {
        var files = Fixtures.files()
        let path = "Blueprints/templates/town.yaml"
        files[path] = Self.townTemplate + "  maps:\n    parameters: {title: Karten}\n"
        let found = errors(files)
        try #require(found.count == 1, "\(describe(found))")
        let at = try position(of: "maps:", in: files[path])
        expect(
            found[0], file: path, line: at.line, column: at.column,
            message: "service 'maps' at site 'beispielstadt' uses the blueprint 'maps', which does not exist")
        #expect(found[0].hint == "expected one of: api, web")
    }

    @Test func siteTemplate_withoutMaintenanceWindows_isReportedForTheEnvironmentThatNeedsThem() throws {
        var files = Fixtures.files()
        let path = "Blueprints/templates/town.yaml"
        files[path] = Self.townTemplate.replacingOccurrences(
            of: "maintenance_windows:\n  - {days: [tue], from: \"20:00\", to: \"23:00\"}\n", with: "")
        let diagnostic = try onlyError(files)
        expect(
            diagnostic, file: path, line: 1, column: 7,
            message: "the template gives no maintenance_windows, but the environment only changes sites inside their "
                + "windows (in environment live)")
    }

    @Test func siteTemplate_whenUsingAnUnknownOnboardPlaceholder_isReported() throws {
        var files = Fixtures.files()
        let path = "Blueprints/templates/town.yaml"
        files[path] = Self.townTemplate.replacingOccurrences(
            of: "{{ onboard.display_name }}", with: "{{ onboard.titel }}")
        let found = errors(files).filter { $0.message.contains("onboard.titel") }
        try #require(!found.isEmpty, "\(describe(errors(files)))")
        #expect(found[0].message == "the template uses {{ onboard.titel }}, which onboarding does not fill in")
        #expect(found[0].location.file == path)
    }

    // MARK: Every error at once

    @Test func load_whenTwoFilesAreBroken_reportsBoth() throws {
        var files = try Fixtures.files(changing: FixturePath.api, "placement:", to: "placment:")
        files = try Fixtures.files(changing: FixturePath.live, "canary: 1", to: "canery: 1", in: files)
        let found = errors(files)
        #expect(found.map(\.location.file) == [FixturePath.api, FixturePath.live])
        #expect(
            found.map(\.message) == [
                "unknown key 'placment' in the blueprint", "unknown key 'canery' in rollout of environment 'live'",
            ])
    }

    @Test func load_whenOneTemplateHasTwoBadPlaceholders_reportsBoth() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "      workers: {{ param.workers }}",
            to: "      workers: {{ parm.workers }}\n      threads: {{ param.thraeds }}")
        let found = errors(files)
        #expect(found.count == 2, "\(describe(found))")
        #expect(found.contains { $0.message.contains("{{ parm.workers }}") })
        #expect(found.contains { $0.message.contains("{{ param.thraeds }}") })
    }

    @Test func load_whenTwoSitesOfOneEnvironmentAreBroken_reportsBoth() throws {
        var files = try Fixtures.files(changing: FixturePath.alpha, "title: Daten Alpha", to: "titel: Daten Alpha")
        files = try Fixtures.files(
            changing: FixturePath.beta, "    dependencies:\n      api: {site: alpha}\n", to: "", in: files)
        let found = errors(files)
        #expect(found.count == 2, "\(describe(found))")
        #expect(found.contains { $0.location.file == FixturePath.alpha && $0.message.contains("sets 'titel'") })
        #expect(found.contains { $0.location.file == FixturePath.beta && $0.message.contains("needs 'api'") })
    }

    @Test func diagnostics_whenSeveral_areSortedByFileAndLine() throws {
        var files = try Fixtures.files(changing: FixturePath.alpha, "days: [tue, thu]", to: "days: [tue, thr]")
        files = try Fixtures.files(changing: FixturePath.alpha, "to: \"23:00\"", to: "to: \"25:00\"", in: files)
        files = try Fixtures.files(changing: FixturePath.api, "placement:", to: "placment:", in: files)
        let found = errors(files)
        #expect(found.count == 3)
        #expect(found.map(\.location) == found.map(\.location).sorted())
    }

    // MARK: The shipped workspace

    @Test func shippedWorkspace_whenLoadedFromDisk_isValidAndResolves() throws {
        let workspace: Workspace
        do {
            workspace = try WorkspaceLoader(source: DiskSourceTree(root: Fixtures.repositoryRoot)).load()
        } catch {
            Issue.record("the shipped files do not load:\n\(error)")
            return
        }
        #expect(workspace.warnings.isEmpty, "\(describe(workspace.warnings))")
        #expect(
            workspace.blueprints.keys.sorted() == [
                "catalog", "mobility", "mqtt-broker", "portal", "proxy", "sensors", "visualization",
            ])
        #expect(workspace.environmentNames == ["live", "local-live", "local-sandbox", "sandbox"])
        #expect(workspace.siteTemplates == ["Blueprints/templates/municipality.yaml"])
        for name in workspace.environmentNames {
            let environment = try EnvironmentResolver(workspace: workspace).resolve(name)
            #expect(!environment.sites.isEmpty)
            #expect(environment.sites.allSatisfy { site in site.nodes.contains { !$0.instances.isEmpty } })
        }
    }
}
