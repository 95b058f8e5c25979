import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI

/// `stellwerk policy`: the environment policy the orchestrator enforces, recorded from the files.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Show, record and approve the environment policy the orchestrator enforces.",
        discussion: """
            The orchestrator keeps each environment's policy (the rollout policy, and for an environment \
            that another promotes into, the promotion gates and the sites' maintenance windows) and \
            refuses every plan whose policy differs from its copy. An approver records the policy from \
            the environment files; for an environment with a promotion source a second approver must \
            agree before it counts (not the proposer, nor anyone the proposer created).

            Examples:
              stellwerk policy show --env live
              stellwerk policy apply --env live
              stellwerk policy approve --env live
            """,
        subcommands: [ShowPolicy.self, ApplyPolicy.self, ApprovePolicy.self])
}

struct ShowPolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the recorded policy, a change waiting for approval, and how the files differ.")
    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let view = try await connection.with { try await $0.send(.policy(env)) }
        if json {
            try Output.json(view)
            return
        }
        let terminal = Terminal.detect()
        for line in PolicyRenderer.render(view) { terminal.line(line) }
        // Where a workspace is at hand, say whether the files still say the same.
        guard (try? workspace.rootURL()) != nil,
            let files = try? PlanComputation(workspace: workspace, terminal: terminal).policy(env)
        else { return }
        guard let recorded = view.recorded?.policy else { return }
        let differences = files.differences(from: recorded, ours: "the workspace")
        terminal.line(
            differences.isEmpty
                ? "The environment files say the same."
                : "The environment files differ:\n" + differences.map { "  \($0)" }.joined(separator: "\n"))
    }
}

struct ApplyPolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Record the environment's policy from its files (approver role).",
        discussion: """
            For an environment without a promotion source it is recorded at once; otherwise it waits \
            until a second approver runs `stellwerk policy approve --env ENV`. Audited either way.
            """)
    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let policy = try PlanComputation(workspace: workspace, terminal: terminal).policy(env)
        let view = try await connection.with { try await $0.send(.proposePolicy(policy, environment: env)) }
        if json {
            try Output.json(view)
            return
        }
        for line in PolicyRenderer.render(view) { terminal.line(line) }
    }
}

struct ApprovePolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve the policy change waiting for an environment (a second approver).",
        discussion: """
            Shows the change and approves exactly what it showed: a change proposed again in between \
            is refused, to be read and approved anew.
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let view = try await connection.with { server in
            let current = try await server.send(.policy(env))
            guard let proposal = current.proposal else {
                throw CLIError("no policy change of \(env) waits for approval")
            }
            if !json { for line in PolicyRenderer.render(current) { terminal.line(line) } }
            return try await server.send(.approvePolicy(digest: proposal.digest, environment: env))
        }
        if json {
            try Output.json(view)
            return
        }
        terminal.line("Approved: \(env)'s policy is \(view.recorded.map { String($0.digest.prefix(12)) } ?? "-") now.")
    }
}

/// A policy for people: who recorded it, its settings, and a waiting change with its differences.
enum PolicyRenderer {
    static func render(_ view: PolicyView) -> [String] {
        var lines = ["Policy of \(view.environment): \(view.message)"]
        if let recorded = view.recorded {
            lines.append(
                "Recorded \(Time.text(recorded.recordedAt)) by \(recorded.recordedBy)"
                    + (recorded.approvedBy.map { ", approved by \($0)" } ?? "")
                    + " (digest \(recorded.digest.prefix(12)))")
            lines += settings(recorded.policy).map { "  \($0)" }
        }
        if let proposal = view.proposal {
            lines.append(
                "Waiting for a second approver: proposed \(Time.text(proposal.proposedAt)) by \(proposal.proposedBy)"
                    + " (digest \(proposal.digest.prefix(12)))")
            lines += proposal.differences.map { "  \($0)" }
        }
        return lines
    }

    static func settings(_ policy: EnvironmentPolicy) -> [String] {
        let rollout = policy.rollout
        var lines = [
            "rollout: canary \(rollout.canary), max_in_flight \(rollout.maxInFlight)\(rollout.maxInFlightPercent ? "%" : ""), "
                + "min_healthy_time \(rollout.minHealthySeconds)s, healthy_deadline \(rollout.healthyDeadlineSeconds)s, "
                + "auto_rollback \(rollout.autoRollback)"
        ]
        if let promotion = policy.promotion {
            lines.append(
                "promoted into from \(promotion.source): soak \(promotion.soakSeconds)s, approvals \(promotion.approvals), "
                    + "windows \(promotion.respectWindows), canary_site \(promotion.canarySite ?? "none")")
        } else {
            lines.append("no promotion source: apply and rollback need only the operator role")
        }
        return lines
    }
}
