import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI

/// `stellwerk secret`: the secrets the orchestrator holds and delivers to the nodes that use them.
struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Set, generate, list, rotate and delete the secrets the orchestrator holds.",
        discussion: """
            Site files name secrets ({secret: NAME}); the orchestrator holds their values, sealed in \
            its store with a key-encryption key kept outside it, and sends each node only the ones its \
            instances use, sealed to the node's key. Values are read from a file or standard input, \
            never from the command line, and appear in no plan, log, event or audit entry. A changed \
            secret shows in the next plan; `apply` restarts the instances that use it.

            Examples:
              stellwerk secret generate catalog-admin-token --env sandbox
              stellwerk secret set kl-catalog-db --env live --site kaiserslautern --from-file db-url.txt
              printf %s "$PASSWORD" | stellwerk secret set kusel-mqtt-password --env live --stdin
              stellwerk secret list --env live
              stellwerk secret rotate catalog-admin-token --env sandbox
            """,
        subcommands: [
            SetSecret.self, GenerateSecret.self, ListSecrets.self, RotateSecret.self, DeleteSecret.self,
            ShowSecret.self,
        ])
}

/// Where a value comes from: a file or standard input, never an argument.
struct SecretValueSource: ParsableArguments {
    @Option(help: ArgumentHelp("Read the value from this file.", valueName: "FILE"))
    var fromFile: String?

    @Flag(help: "Read the value from standard input.")
    var stdin = false

    /// Whether one of the two was given.
    var isGiven: Bool { fromFile != nil || stdin }

    /// The value, without one final line break (as `echo` and editors add); too large, empty or
    /// not text is refused here already.
    func read() throws -> String {
        let data: Data
        switch (fromFile, stdin) {
        case (let file?, false):
            var status = stat()
            guard stat(file, &status) == 0 else { throw CLIError("\(file): cannot read it") }
            guard status.st_size <= 2 * 65_536 else {
                throw CLIError(
                    "\(file): a secret may have at most 65536 bytes (64 KiB); this file has \(status.st_size)")
            }
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw CLIError("\(file): cannot read it")
            }
            data = contents
        case (nil, true):
            data = FileHandle.standardInput.readData(ofLength: 2 * 65_536 + 1)
        default:
            throw CLIError("give the value with --from-file FILE or --stdin (never on the command line)")
        }
        guard var value = String(data: data, encoding: .utf8) else {
            throw CLIError("the value is not UTF-8 text; secrets are text (encode binary keys as base64 or PEM)")
        }
        if value.hasSuffix("\r\n") {
            value.removeLast(1)
        } else if value.hasSuffix("\n") {
            value.removeLast()
        }
        guard !value.isEmpty else { throw CLIError("the value is empty") }
        guard value.utf8.count <= 65_536 else {
            throw CLIError("a secret may have at most 65536 bytes (64 KiB); this value has \(value.utf8.count)")
        }
        return value
    }
}

struct SetSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a secret's value (a new secret, or its next version).",
        discussion: "One final line break of the value is dropped. At most 64 KiB of UTF-8 text.")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The secret's name, as site files reference it.") var name: String
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Option(help: ArgumentHelp("Deliver it only to the nodes of this site.", valueName: "SITE")) var site: String?
    @OptionGroup var source: SecretValueSource
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let value = try source.read()
        let view = try await connection.with {
            try await $0.send(.setSecret(name, environment: env, SecretValueRequest(value: value, site: site)))
        }
        try SecretRenderer.changed(view, json: json)
    }
}

struct GenerateSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Make a new secret with a random value the server generates (nobody sees it).",
        discussion: """
            Kinds: token (URL-safe, from 32 random bytes or --length bytes), password (24 or --length \
            letters and digits without look-alikes), ed25519 (a private key in PKCS #8 PEM). Refused \
            when the name exists; `secret rotate` gives an existing one a new value.
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The secret's name, as site files reference it.") var name: String
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Option(help: ArgumentHelp("token, password or ed25519.", valueName: "KIND")) var kind = "token"
    @Option(help: ArgumentHelp("Bytes of a token or characters of a password (16 to 1024).", valueName: "N"))
    var length: Int?
    @Option(help: ArgumentHelp("Deliver it only to the nodes of this site.", valueName: "SITE")) var site: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard let kind = SecretKind(wire: kind), kind != .value else {
            throw ValidationError("--kind \(kind): give token, password or ed25519")
        }
        if let length, !(16...1024).contains(length) {
            throw ValidationError("--length \(length): give a number from 16 to 1024")
        }
    }

    func run() async throws {
        let request = SecretGenerateRequest(kind: SecretKind(wire: kind) ?? .token, length: length, site: site)
        let view = try await connection.with { try await $0.send(.generateSecret(name, environment: env, request)) }
        try SecretRenderer.changed(view, json: json)
    }
}

struct ListSecrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List an environment's secrets: versions, who changed them when, which instances use them.")
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let secrets = try await connection.with { try await $0.send(.secrets(env)) }
        if json {
            try Output.json(secrets)
            return
        }
        let terminal = Terminal.detect()
        guard !secrets.isEmpty else {
            terminal.line("\(env) has no secrets yet; `stellwerk secret set NAME --env \(env) --stdin` sets one.")
            return
        }
        terminal.table(
            header: ["NAME", "VERSION", "KIND", "SITE", "CHANGED", "BY", "USED BY"],
            rows: secrets.map { secret in
                [
                    secret.name, "\(secret.version)", secret.kind.rawValue, secret.site ?? "all",
                    Time.text(secret.updatedAt), secret.updatedBy,
                    secret.usedBy.isEmpty ? "-" : secret.usedBy.joined(separator: ", "),
                ]
            })
        for secret in secrets { if let problem = secret.problem { terminal.line("! \(secret.name): \(problem)") } }
    }
}

struct RotateSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Give a secret its next version: a new random value, or the one given for a secret that was set.",
        discussion: "The next plan shows it changed; `apply` restarts the instances that use it.")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The secret's name.") var name: String
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @OptionGroup var source: SecretValueSource
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let value = source.isGiven ? try source.read() : nil
        let view = try await connection.with { try await $0.send(.rotateSecret(name, environment: env, value: value)) }
        try SecretRenderer.changed(view, json: json)
    }
}

struct DeleteSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a secret that no instance uses any more (audited).")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The secret's name.") var name: String
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String

    func run() async throws {
        _ = try await connection.with { try await $0.send(.deleteSecret(name, environment: env)) }
        print("Deleted secret \(name) of \(env).")
    }
}

struct ShowSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a secret's value (approver; only from a local platform's server, audited).",
        discussion: """
            Servers reveal values only when started with --reveal-secrets, as `stellwerk up` starts \
            its own: for example the local catalog's write token, \
            `stellwerk secret show catalog-admin-token --env local-sandbox`.
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The secret's name.") var name: String
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String

    func run() async throws {
        let view = try await connection.with { try await $0.send(.revealSecret(name, environment: env)) }
        FileHandle.standardOutput.write(Data((view.value + "\n").utf8))
    }
}

/// One line about a change: the name, the version, and what to do next. Never the value.
enum SecretRenderer {
    static func changed(_ view: SecretView, json: Bool) throws {
        if json {
            try Output.json(view)
            return
        }
        let users =
            view.usedBy.isEmpty
            ? "no instance uses it yet"
            : "`stellwerk apply --env \(view.environment)` restarts \(view.usedBy.joined(separator: ", "))"
        print(
            "Secret \(view.name) of \(view.environment) is at version \(view.version) (\(view.kind.rawValue)"
                + (view.site.map { ", site \($0)" } ?? "") + "); \(users).")
    }
}
