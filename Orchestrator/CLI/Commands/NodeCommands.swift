import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI

/// `stellwerk node`: the nodes the orchestrator knows and their certificates.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "List nodes with their certificates, revoke a node's certificate, decommission a node.",
        discussion: """
            Node certificates last 30 days; agents renew theirs after two thirds of that, and a \
            renewed certificate supersedes the one before the first time the agent uses it. Joining \
            a node again supersedes its earlier certificates at once.

            Examples:
              stellwerk node list --env live
              stellwerk node revoke kus-live-1 --env live
              stellwerk node remove kus-live-1 --env live
            """,
        subcommands: [ListNodes.self, BootstrapNode.self, RevokeNode.self, RemoveNode.self])
}

struct ListNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List nodes: connection, certificate serial, expiry and state.")
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("Only this environment.", valueName: "ENV")) var env: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let nodes = try await connection.with { try await $0.send(.nodes(environment: env)) }
        if json {
            try Output.json(nodes)
            return
        }
        if nodes.isEmpty {
            print(env.map { "No nodes in \($0)." } ?? "No nodes.")
            return
        }
        Terminal.detect().table(
            header: ["ENVIRONMENT", "SITE", "NODE", "CONNECTION", "CERTIFICATE", "SERIAL", "EXPIRES"],
            rows: nodes.map {
                [
                    $0.environment, $0.site, $0.node, $0.connection.rawValue, $0.state.rawValue,
                    $0.serial.map { String($0.prefix(16)) } ?? "-", $0.notAfter.map(Time.text) ?? "-",
                ]
            })
    }
}

struct RevokeNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a node's certificates at once (admin); it must join again with a new token.",
        discussion: """
            Every server sharing the store refuses the node from its next request on. Its instances \
            keep running as they are; the node is shown disconnected once it stops reporting.
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The node's name.") var node: String
    @Option(help: ArgumentHelp("The node's environment.", valueName: "ENV")) var env: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let view = try await connection.with { try await $0.send(.revokeNode(node, environment: env)) }
        if json {
            try Output.json(view)
            return
        }
        print(
            "Revoked the certificate of \(node) in \(env)\(view.serial.map { " (serial \($0.prefix(16)))" } ?? ""). "
                + "It must join again: stellwerk token create --env \(env) --site \(view.site) --node \(node)")
    }
}

struct RemoveNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Decommission a node (admin): its certificates revoked, the orchestrator forgets it.",
        discussion: """
            First take the node out of its site file and apply (into an environment with a promotion \
            source: promote), so that a rollout removes its instances; `remove` refuses a node whose \
            desired state still has instances, and one that still reports running any. --force \
            removes a node that still reports instances, for a server that is gone for good. The node \
            must join again with a new token to come back. Audited (`node.remove`).
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The node's name.") var node: String
    @Option(help: ArgumentHelp("The node's environment.", valueName: "ENV")) var env: String
    @Flag(help: "Also while it still reports instances (a node that is gone for good).") var force = false

    func run() async throws {
        _ = try await connection.with { try await $0.send(.removeNode(node, environment: env, force: force)) }
        print("Removed \(node) from \(env): its certificates are revoked and the orchestrator no longer knows it.")
    }
}
