import ArgumentParser
import Foundation
import Model
import OrchestratorClient
import Planner
import StellwerkAPI
import WorkspaceFiles

/// `stellwerk apply`: start a rollout and follow it.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Roll a plan out to an environment and follow it live.",
        discussion: """
            Without PLAN, computes the plan against the orchestrator's recorded state (as `stellwerk plan` \
            would) and applies it; with PLAN, applies that saved plan, which the orchestrator refuses when \
            the environment changed since it was computed. The rollout then runs in waves (canary first) \
            as the environment's rollout policy says, and this command shows each node's progress until \
            it ends; --detach returns at once. Exit status 0 when the rollout succeeded, 1 otherwise.

            Examples:
              stellwerk apply --env sandbox --release r-2026-11-27
              stellwerk apply --env live live.plan.json
              stellwerk apply --env sandbox --detach
            """)

    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The environment to apply to.", valueName: "ENV")) var env: String
    @Option(help: ArgumentHelp("The release to deploy (an ID the orchestrator holds).", valueName: "ID"))
    var release: String?
    @Argument(help: ArgumentHelp("A plan saved with `stellwerk plan --out`.", valueName: "PLAN")) var plan: String?
    @Flag(help: "Start the rollout and return without following it.") var detach = false
    @Flag(help: "Print the final rollout as JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let outcome: RolloutView = try await connection.with { server in
            let plan = try await self.plan(server: server, terminal: terminal)
            guard plan.environment == env else {
                throw CLIError("the plan is for \(plan.environment), not \(env)")
            }
            let started = try await server.send(.startRollout(plan))
            if detach { return started }
            return try await RolloutFollower(terminal: terminal, quiet: json).follow(started.id, server: server)
        }
        if json { try Output.json(outcome) }
        if detach {
            if !json {
                terminal.line(
                    "Started rollout \(outcome.id); follow it with `stellwerk rollout show \(outcome.id) --follow`.")
            }
            return
        }
        if outcome.state != .succeeded { throw ExitCode(1) }
    }

    private func plan(server: OrchestratorConnection, terminal: Terminal) async throws -> Plan {
        if let plan {
            let saved = try JSONFiles.read(Plan.self, from: plan, what: "plan")
            guard saved.format == Plan.currentFormat else {
                throw CLIError(
                    "\(plan): the plan has format \(saved.format); this stellwerk reads format \(Plan.currentFormat)")
            }
            return saved
        }
        let computed = try await PlanComputation(workspace: workspace, terminal: terminal).plan(
            env, release: release, server: server)
        if !json { PlanRenderer(terminal: terminal, showUnchanged: false).render(computed) }
        return computed
    }
}

/// Follows a rollout until it ends: on a terminal, one line per node redrawn in place with a
/// progress bar; otherwise one line per change, for logs.
struct RolloutFollower {
    let terminal: Terminal
    let quiet: Bool

    func follow(_ id: String, server: OrchestratorConnection) async throws -> RolloutView {
        let start = Date()
        var shown: [String: String] = [:]
        var drawnLines = 0
        var changes: ServerChanges?
        defer { changes?.stop() }
        while true {
            let view = try await server.send(.rollout(id))
            if changes == nil {
                changes = ServerChanges(server: server, environment: view.environment) { event in
                    [.rollout, .rolloutStep].contains(event.type)
                }
            }
            if !quiet {
                if terminal.colors {
                    if drawnLines > 0 { terminal.write("\u{1B}[\(drawnLines)A\u{1B}[J") }
                    let lines = Self.render(view, terminal: terminal, elapsed: Date().timeIntervalSince(start))
                    for line in lines { terminal.line(line) }
                    drawnLines = lines.count
                } else {
                    for step in view.steps where shown[step.node] != "\(step.state.rawValue) \(step.detail)" {
                        shown[step.node] = "\(step.state.rawValue) \(step.detail)"
                        terminal.line(
                            "\(Self.elapsed(Date().timeIntervalSince(start)))  \(step.node)  \(step.state.rawValue)  \(step.detail)"
                        )
                    }
                }
            }
            if !view.isActive {
                if !quiet {
                    let verdict =
                        view.state == .succeeded
                        ? terminal.green(view.state.rawValue) : terminal.red(view.state.rawValue)
                    terminal.line(
                        "Rollout \(view.id) \(verdict) after \(Self.elapsed(Date().timeIntervalSince(start))): \(view.message)"
                    )
                }
                return view
            }
            await changes?.next()
        }
    }

    static func render(_ view: RolloutView, terminal: Terminal, elapsed: TimeInterval) -> [String] {
        let finished = view.steps.filter { [.done, .skipped, .rolledBack].contains($0.state) }.count
        let total = max(view.steps.count, 1)
        let width = 30
        let filled = width * finished / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        var lines = [
            "Rollout \(view.id) of \(view.release) to \(view.environment): \(view.state.rawValue)  \(bar) \(finished)/\(view.steps.count)  \(Self.elapsed(elapsed))"
        ]
        let nameWidth = view.steps.map(\.node.count).max() ?? 4
        for step in view.steps {
            let state = step.state.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
            let colored: String =
                switch step.state {
                case .done: terminal.green(state)
                case .failed, .rollbackFailed: terminal.red(state)
                case .rollingBack, .rolledBack, .skipped: terminal.yellow(state)
                case .waiting, .notStarted: terminal.dim(state)
                case .installing, .health: terminal.cyan(state)
                }
            lines.append(
                "  \(step.node.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  wave \(step.wave)  \(colored) \(step.detail)"
            )
        }
        if !view.message.isEmpty { lines.append("  \(terminal.dim(view.message))") }
        return lines
    }

    static func elapsed(_ seconds: TimeInterval) -> String {
        let total = Int(seconds)
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// `stellwerk rollout`: list, show and control rollouts.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "List, show, pause, resume or cancel rollouts.",
        discussion: """
            Rollout states: running, paused (in-flight nodes finish, no new ones start), succeeded, \
            failed, cancelled (nodes keep what they have), rolling-back, rolled-back.

            Examples:
              stellwerk rollout list --env sandbox
              stellwerk rollout show ro-1a2b3c4d --follow
              stellwerk rollout pause ro-1a2b3c4d
            """,
        subcommands: [
            ListRollouts.self, ShowRollout.self, ControlRollout.Pause.self, ControlRollout.Resume.self,
            ControlRollout.Cancel.self,
        ])
}

struct ListRollouts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List rollouts, newest first.")
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("Only this environment.", valueName: "ENV")) var env: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let rollouts = try await connection.with { try await $0.send(.rollouts(environment: env)) }
        if json {
            try Output.json(rollouts)
            return
        }
        let formatter = ISO8601DateFormatter()
        Terminal.detect().table(
            header: ["ID", "ENVIRONMENT", "RELEASE", "STATE", "NODES", "STARTED", "BY"],
            rows: rollouts.map {
                [
                    $0.id, $0.environment, $0.release, $0.state.rawValue, String($0.steps.count),
                    formatter.string(from: $0.createdAt), $0.createdBy,
                ]
            })
    }
}

struct ShowRollout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a rollout node by node.")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: "The rollout's ID.") var id: String
    @Flag(help: "Keep following it until it ends.") var follow = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let view = try await connection.with { server in
            if follow { return try await RolloutFollower(terminal: terminal, quiet: json).follow(id, server: server) }
            return try await server.send(.rollout(id))
        }
        if json {
            try Output.json(view)
        } else if !follow {
            for line in RolloutFollower.render(
                view, terminal: terminal, elapsed: view.updatedAt.timeIntervalSince(view.createdAt))
            {
                terminal.line(line)
            }
        }
    }
}

enum ControlRollout {
    static func run(_ call: APICall<NoBody, RolloutView>, connection: ServerConnectionOption) async throws {
        let view = try await connection.with { try await $0.send(call) }
        print("Rollout \(view.id) is \(view.state.rawValue) now.")
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause", abstract: "Start no new nodes until resumed.")
        @OptionGroup var connection: ServerConnectionOption
        @Argument(help: "The rollout's ID.") var id: String
        func run() async throws { try await ControlRollout.run(.pauseRollout(id), connection: connection) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a paused rollout.")
        @OptionGroup var connection: ServerConnectionOption
        @Argument(help: "The rollout's ID.") var id: String
        func run() async throws { try await ControlRollout.run(.resumeRollout(id), connection: connection) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel", abstract: "Stop a rollout; nodes keep what they have (use rollback to undo).")
        @OptionGroup var connection: ServerConnectionOption
        @Argument(help: "The rollout's ID.") var id: String
        func run() async throws { try await ControlRollout.run(.cancelRollout(id), connection: connection) }
    }
}

/// `stellwerk rollback --env ENV`.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll an environment back to the last release that was healthy everywhere.",
        discussion: """
            Starts a rollout, without a canary wave, that gives every node the desired state it had at the \
            end of the last successful rollout of an earlier release, and follows it like `apply`.

            When an instance goes back past a migration that cannot be undone (`reversible: false`), its \
            agent restores the data backup taken before that migration: data written since is lost. The \
            command lists those instances first and asks before it starts (--yes answers for scripts).

            Examples:
              stellwerk rollback --env sandbox
              stellwerk rollback --env live --yes
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("The environment.", valueName: "ENV")) var env: String
    @Flag(help: "Start it and return at once.") var detach = false
    @Flag(help: "Confirm restoring data backups without asking.") var yes = false

    func run() async throws {
        let terminal = Terminal.detect()
        let view = try await connection.with { server in
            let preview = try await server.send(.rollbackPreview(env))
            terminal.line(
                "Rolling \(env) back from \(preview.from) to \(preview.to) on \(preview.nodes.count) node(s).")
            if !preview.restores.isEmpty {
                terminal.line("These instances get their data back from a backup:")
                for line in preview.restores { terminal.line("  \(line)") }
                try confirm()
            }
            let started = try await server.send(.rollback(env))
            if detach { return started }
            return try await RolloutFollower(terminal: terminal, quiet: false).follow(started.id, server: server)
        }
        if detach { terminal.line("Started rollback \(view.id) to \(view.release).") }
        if !detach && view.state != .succeeded { throw ExitCode(1) }
    }

    private func confirm() throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError("this rollback restores data backups (listed above); confirm with --yes")
        }
        FileHandle.standardOutput.write(Data("Restore these backups and roll back? [y/N] ".utf8))
        guard let answer = readLine()?.lowercased(), answer == "y" || answer == "yes" else {
            throw CLIError("rollback not started")
        }
    }
}

/// `stellwerk status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every site, node and service: release, health, last seen, drift.",
        discussion: """
            Examples:
              stellwerk status
              stellwerk status --env live --json | jq '.environments[].nodes[] | select(.connection != "connected")'
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("Only this environment.", valueName: "ENV")) var env: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let status = try await connection.with { try await $0.send(.status(environment: env)) }
        if json {
            try Output.json(status)
            return
        }
        let terminal = Terminal.detect()
        if status.environments.isEmpty { terminal.line("No nodes have joined yet.") }
        for environment in status.environments {
            terminal.line(
                terminal.bold("\(environment.name)") + "  serial \(environment.serial)"
                    + (environment.activeRollout.map { "  rollout \($0) in progress" } ?? "")
                    + (environment.emergency.map { "  " + terminal.red("EMERGENCY CHANGE \($0)") } ?? ""))
            var rows: [[String]] = []
            for node in environment.nodes {
                let seen = node.lastSeen.map { "\(Int(status.generatedAt.timeIntervalSince($0)))s ago" } ?? "never"
                let connection =
                    node.connection == .connected
                    ? node.connection.rawValue
                    : node.connection == .joined
                        ? "joined, never reported" : terminal.red(node.connection.rawValue.uppercased())
                if node.instances.isEmpty {
                    rows.append([node.site, node.node, connection, seen, "-", "-", "-", ""])
                }
                for instance in node.instances {
                    var release = instance.release
                    if let wanted = instance.desiredRelease, wanted != instance.release { release += " → \(wanted)" }
                    let note = [
                        instance.drift.isEmpty ? nil : "drift: \(instance.drift.joined(separator: ", "))",
                        instance.lastError,
                    ]
                    .compactMap { $0 }.joined(separator: "; ")
                    rows.append([
                        node.site, node.node, connection, seen, instance.service, release, instance.state.rawValue,
                        note,
                    ])
                }
            }
            terminal.table(
                header: ["SITE", "NODE", "CONNECTION", "LAST SEEN", "SERVICE", "RELEASE", "STATE", "NOTE"], rows: rows)
            terminal.line()
        }
    }
}
