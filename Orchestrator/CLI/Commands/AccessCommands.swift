import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI

/// `stellwerk token`: join tokens for nodes.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create and list single-use join tokens for nodes.",
        subcommands: [CreateToken.self, ListTokens.self])
}

struct CreateToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a join token for one node (admin).",
        discussion: """
            Prints the token once; only its hash is stored. It works for this node only, once, until it \
            expires. Hand it to the node's admin together with the CA fingerprint.

            Example:
              stellwerk token create --env sandbox --site kusel --node kus-sbx-1 --ttl 1h
            """)

    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The node's environment.", valueName: "ENV")) var env: String
    @Option(help: ArgumentHelp("The node's site.", valueName: "SITE")) var site: String
    @Option(help: ArgumentHelp("The node's name.", valueName: "NODE")) var node: String
    @Option(help: ArgumentHelp("How long the token stays valid: 30m, 1h, 7d (default 1h).", valueName: "SPAN"))
    var ttl = "1h"
    @Flag(help: "Print the token as JSON.") var json = false

    func run() async throws {
        guard let seconds = DurationText.seconds(ttl) else {
            throw CLIError("--ttl \(ttl): write a span such as 30m, 1h or 7d")
        }
        let issued = try await connection.with { server in
            try await server.send(
                .createJoinToken(JoinTokenRequest(environment: env, site: site, node: node, ttlSeconds: seconds)))
        }
        if json {
            try Output.json(issued)
            return
        }
        print(issued.token)
        let until = issued.expiresAt.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
        FileHandle.standardError.write(
            Data("Join token \(issued.id) for \(node) (site \(site), \(env)), valid once until \(until).\n".utf8))
    }
}

struct ListTokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List join tokens (admin).")
    @OptionGroup var connection: ServerConnectionOption
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let tokens = try await connection.with { try await $0.send(.joinTokens) }
        if json {
            try Output.json(tokens)
            return
        }
        Terminal.detect().table(
            header: ["ID", "ENVIRONMENT", "SITE", "NODE", "EXPIRES", "USED"],
            rows: tokens.map {
                [$0.id, $0.environment, $0.site, $0.node, Time.text($0.expiresAt), $0.used ? "yes" : "no"]
            })
    }
}

/// `stellwerk user`: operators and their roles.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage operators: API tokens with a role per environment.",
        discussion: """
            Roles: viewer (read), operator (apply, roll back, control rollouts), approver (approve \
            promotions), admin (everything, and users and join tokens). `*` stands for every environment. \
            A role that may approve in an environment with a promotion source (approver or admin there, \
            or for `*`) is a four-eyes change too: its token works once a second admin ran `stellwerk \
            user approve NAME` (not the admin who created it, nobody that admin created).

            Examples:
              stellwerk user create anna --role sandbox=operator --role live=viewer
              stellwerk user create ben --role '*=approver'
              stellwerk user approve ben
              stellwerk user list
              stellwerk user revoke anna
            """,
        subcommands: [CreateUser.self, ListUsers.self, ApproveUser.self, RevokeUser.self])
}

struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an operator and print their API token once (admin).")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The operator's name.") var name: String
    @Option(help: ArgumentHelp("ENV=ROLE; repeat for several environments.", valueName: "ENV=ROLE"))
    var role: [String] = []

    func run() async throws {
        var roles: [String: Role] = [:]
        for entry in role {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw CLIError("--role \(entry): write ENV=ROLE, such as sandbox=operator")
            }
            guard let value = Role(rawValue: parts[1]) else {
                throw CLIError(
                    "--role \(entry): '\(parts[1])' is not a role; roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            roles[parts[0]] = value
        }
        let (issued, created) = try await connection.with { server in
            let issued = try await server.send(.createUser(UserRequest(name: name, roles: roles)))
            return (issued, try await server.send(.users).first { $0.name == name })
        }
        print(issued.token)
        FileHandle.standardError.write(Data("API token of \(name); it is shown only now.\n".utf8))
        if created?.awaitingApproval == true {
            FileHandle.standardError.write(
                Data(
                    "\(name) may approve in an environment with a promotion source: the token works once a second admin runs `stellwerk user approve \(name)`.\n"
                        .utf8))
        }
    }
}

struct ListUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List operators (admin).")
    @OptionGroup var connection: ServerConnectionOption
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let users = try await connection.with { try await $0.send(.users) }
        if json {
            try Output.json(users)
            return
        }
        Terminal.detect().table(
            header: ["NAME", "ROLES", "CREATED BY", "STATE"],
            rows: users.map {
                [
                    $0.name,
                    $0.roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: " "),
                    $0.createdBy,
                    $0.revokedAt != nil
                        ? "revoked"
                        : $0.awaitingApproval
                            ? "awaiting a second admin"
                            : $0.approvedBy.map { "active (approved by \($0))" } ?? "active",
                ]
            })
    }
}

struct ApproveUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve an operator's roles that wait for a second admin (admin, not the one who created them).")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The operator's name.") var name: String

    func run() async throws {
        let user = try await connection.with { try await $0.send(.approveUser(name)) }
        print(
            "Approved the roles of \(name): "
                + user.roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ", ")
                + ". Their token works now.")
    }
}

struct RevokeUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke an operator's token (admin).")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The operator's name.") var name: String

    func run() async throws {
        _ = try await connection.with { try await $0.send(.revokeUser(name)) }
        print("Revoked the API token of \(name).")
    }
}

enum DurationText {
    /// `90s`, `30m`, `1h`, `7d` or combinations like `1h30m`, in seconds; nil for anything else,
    /// a span that overflows included.
    static func seconds(_ text: String) -> Int? {
        var total = 0
        var number = ""
        for character in text {
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            let units = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
            guard let value = Int(number), let unit = units[String(character)] else { return nil }
            let (span, overflowed) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflowedAgain) = total.addingReportingOverflow(span)
            guard !overflowed, !overflowedAgain else { return nil }
            total = sum
            number = ""
        }
        return number.isEmpty && total > 0 ? total : nil
    }
}
