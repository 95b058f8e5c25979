import ArgumentParser
import Foundation
import StellwerkAPI
import Store
import WorkspaceFiles

/// `stellwerk plan`: what must change on each node of an environment.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what must change on each node of an environment.",
        discussion: """
            `stellwerk plan --env ENV` computes a plan (see `stellwerk plan create --help`); \
            `stellwerk plan show PLAN` shows one saved with --out.

            Examples:
              stellwerk plan --env sandbox
              stellwerk plan --env live --out live.plan.json
              stellwerk plan show live.plan.json
            """,
        subcommands: [CreatePlan.self, ShowPlan.self],
        defaultSubcommand: CreatePlan.self)
}

/// `stellwerk plan [create] --env ENV`.
struct CreatePlan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Compute the plan for an environment (the default of `stellwerk plan`).",
        discussion: """
            Compares the desired state (blueprints, environment, sites and the release) with the recorded \
            state of every node and lists, per site, node and service: create, update, migrate, restart, \
            remove or unchanged. Secret values never appear, only whether they changed. The plan records \
            the state serial it was computed from; applying it after the state moved is refused.

            The recorded state and its serial come from the orchestrator when one is configured \
            (STELLWERK_SERVER or --server), else from the state store (--store); a snapshot file given \
            with --state takes its place, for planning offline. Without any, and before anything was \
            applied, the recorded state is empty. With an orchestrator, --release also takes a release ID.

            Examples:
              stellwerk plan --env sandbox
              stellwerk plan --env live --state live-state.json --out live.plan.json
              stellwerk plan --env sandbox --json | jq '.sites[].nodes[].changes'
              stellwerk plan --env live --release r-1a2b3c4d5e6f --out live.plan.json   # with an orchestrator
            """)

    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var connection: ServerConnectionOption

    @Option(name: .long, help: ArgumentHelp("The environment to plan, such as sandbox or live.", valueName: "ENV"))
    var env: String

    @Option(
        name: .long,
        help: ArgumentHelp("A state snapshot (JSON) to plan against; default: nothing deployed.", valueName: "FILE"))
    var state: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A release manifest (JSON), or a release ID the orchestrator holds; default: the working tree, unreleased.",
            valueName: "FILE|ID"))
    var release: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Save the plan (JSON) to this file for review and a later apply.", valueName: "PLAN"))
    var out: String?

    @Flag(name: .long, help: "Print the plan as JSON instead of the terminal view.")
    var json = false

    @Flag(name: .long, help: "Also list instances that stay unchanged.")
    var all = false

    func run() async throws {
        let terminal = Terminal.detect()
        let manifest = try await releaseManifest()
        let recorded = try await recordedState()
        let computation = PlanComputation(workspace: workspace, terminal: terminal)
        let fromServer = state == nil && connection.isConfigured
        var plan = try computation.plan(env, manifest: manifest, recorded: recorded, requiringSecrets: fromServer)
        if fromServer {
            try await connection.with { try await computation.warnAboutPolicy(&plan, server: $0) }
        }
        if let out {
            do {
                try JSONFiles.write(plan, to: out)
            } catch {
                throw CLIError("\(out): cannot save the plan: \(error.localizedDescription)")
            }
        }
        if json {
            try Output.json(plan)
        } else {
            PlanRenderer(terminal: terminal, showUnchanged: all).render(plan)
            if let out { terminal.line("Saved the plan to \(out).") }
        }
    }
}

extension CreatePlan {
    /// The release from a manifest file, or by ID from the orchestrator.
    private func releaseManifest() async throws -> ReleaseManifest? {
        guard let release else { return nil }
        if FileManager.default.fileExists(atPath: release) || !connection.isConfigured {
            return try JSONFiles.read(ReleaseManifest.self, from: release, what: "release manifest")
        }
        return try await connection.with { try await $0.send(.release(release)).manifest }
    }

    /// The snapshot file, the orchestrator's or the store's recorded state; an empty state when the
    /// default store does not exist yet (nothing was ever applied from this folder).
    private func recordedState() async throws -> StateSnapshot {
        if let state {
            let snapshot = try JSONFiles.read(StateSnapshot.self, from: state, what: "state snapshot")
            guard snapshot.environment == env else {
                throw CLIError("\(state): the snapshot is of environment '\(snapshot.environment)', not '\(env)'")
            }
            return snapshot
        }
        if connection.isConfigured {
            return try await connection.with { try await $0.send(.snapshot(env)) }
        }
        let root = try workspace.rootURL()
        let (location, named) = try storeOption.location(workspaceRoot: root)
        if !named, case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            return .empty(environment: env)
        }
        let store = try await storeOption.open(workspaceRoot: root, create: false)
        defer { store.close() }
        do {
            return try await store.snapshot(environment: env)
        } catch let error as StoreError {
            throw error.cliError
        }
    }
}

/// `stellwerk plan show PLAN`.
struct ShowPlan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a saved plan.",
        discussion: """
            Examples:
              stellwerk plan show live.plan.json
              stellwerk plan show live.plan.json --json
            """)

    @Argument(help: ArgumentHelp("A plan saved with `stellwerk plan --out`.", valueName: "PLAN"))
    var path: String

    @Flag(name: .long, help: "Print the plan as JSON.")
    var json = false

    @Flag(name: .long, help: "Also list instances that stay unchanged.")
    var all = false

    func run() throws {
        let plan = try JSONFiles.read(Plan.self, from: path, what: "plan")
        guard plan.format == Plan.currentFormat else {
            throw CLIError(
                "\(path): the plan has format \(plan.format); this stellwerk reads format \(Plan.currentFormat)")
        }
        if json {
            try Output.json(plan)
        } else {
            PlanRenderer(terminal: .detect(), showUnchanged: all).render(plan)
        }
    }
}
