import ArgumentParser
import Foundation
import OrchestratorClient
import StellwerkAPI

/// `stellwerk promote RELEASE --to ENV`: request a promotion and show its gates.
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Promote a release verified in one environment into the next, site by site.",
        discussion: """
            The source is the environment whose `promotes_to` names ENV. Three gates are shown one by \
            one, each open or closed with the reason:
              verified   the release runs healthy on every node of the source for the soak time;
              approvals  enough holders of the approver role other than you approved (four eyes);
              windows    each site is only changed inside its maintenance window (Europe/Berlin).
            A release that is not verified is refused. Otherwise the promotion waits for approvals, \
            then rolls out the canary site alone, then the other sites. --dry-run evaluates the gates and \
            shows the per-site plan without starting anything (exit status 1 when it would be refused).

            --emergency REASON requests an emergency change: the release enters without the soak in the \
            source and outside maintenance windows, once an approver other than you agreed. It is marked \
            as one in the status, the audit log, the event stream and the metrics.

            Examples:
              stellwerk promote r-1a2b3c4d5e6f --to live --dry-run
              stellwerk promote r-1a2b3c4d5e6f --to live --message "Pegel-Dienst 2026.11"
              stellwerk promote r-1a2b3c4d5e6f --to live --emergency "Pegel-Dienst liefert keine Werte"
              stellwerk promotion approve pr-1a2b3c4d
            """)

    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The release to promote (an ID the orchestrator holds).", valueName: "RELEASE"))
    var release: String
    @Option(help: ArgumentHelp("The environment to promote into, such as live.", valueName: "ENV")) var to: String
    @Option(help: ArgumentHelp("Why, for the approvers and the audit log.", valueName: "TEXT")) var message: String?
    @Option(help: ArgumentHelp("Request an emergency change, for this reason.", valueName: "REASON"))
    var emergency: String?
    @Flag(help: "Show the gates and the per-site plan; start nothing.") var dryRun = false
    @Flag(help: "Follow the promotion until it ends.") var follow = false
    @Flag(help: "Print the promotion as JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let view: PromotionView = try await connection.with { server in
            let plan = try await PlanComputation(workspace: workspace, terminal: terminal).plan(
                to, release: release, server: server, forPromotion: true)
            let requested = try await server.send(
                .requestPromotion(PromotionRequest(plan: plan, dryRun: dryRun, message: message, emergency: emergency)))
            if follow && !dryRun { return try await PromotionFollower.follow(requested, server: server, quiet: json) }
            return requested
        }
        if json {
            try Output.json(view)
        } else if !follow || dryRun {
            for line in PromotionFollower.render(view, terminal: terminal) { terminal.line(line) }
            if view.state == .waiting {
                terminal.line(
                    "Promotion \(view.id) waits for approvals: an approver runs `stellwerk promotion approve \(view.id)`."
                )
            }
        }
        if dryRun, view.gates.first(where: { $0.name == .verified })?.open != true { throw ExitCode(1) }
        if follow, !dryRun, view.state != .succeeded { throw ExitCode(1) }
    }
}

/// `stellwerk promotion approve PROMOTION` and `stellwerk promotion reject PROMOTION --reason`.
struct ApprovePromotion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a promotion (approver role; not your own).",
        discussion: """
            Examples:
              stellwerk promotion approve pr-1a2b3c4d
              stellwerk promotion approve pr-1a2b3c4d --reason "checked the sandbox portal"
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The promotion's ID.", valueName: "PROMOTION")) var id: String
    @Option(help: ArgumentHelp("A note for the audit log.", valueName: "TEXT")) var reason = ""
    @Flag(help: "Print the promotion as JSON.") var json = false

    func run() async throws {
        try await PromotionFollower.decide(
            .approvePromotion(id, reason: reason), json: json, connection: connection)
    }
}

struct RejectPromotion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a promotion (approver role); it ends without touching any site.",
        discussion: """
            Example:
              stellwerk promotion reject pr-1a2b3c4d --reason "the sandbox portal shows no datasets"
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The promotion's ID.", valueName: "PROMOTION")) var id: String
    @Option(help: ArgumentHelp("Why; required.", valueName: "TEXT")) var reason: String
    @Flag(help: "Print the promotion as JSON.") var json = false

    func run() async throws {
        try await PromotionFollower.decide(
            .rejectPromotion(id, reason: reason), json: json, connection: connection)
    }
}

/// `stellwerk promotion list|show|approve|reject|cancel`.
struct PromotionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promotion",
        abstract: "List, show, approve, reject or cancel promotions (`stellwerk promote` requests one).",
        discussion: """
            Promotion states: waiting (for approvals), rolling-out, succeeded, failed (a site's rollout \
            failed; later sites were not started), rejected, cancelled.

            Examples:
              stellwerk promotion list --env live
              stellwerk promotion show pr-1a2b3c4d --follow
              stellwerk promotion approve pr-1a2b3c4d --reason "sandbox portal checked"
              stellwerk promotion cancel pr-1a2b3c4d
            """,
        subcommands: [
            ListPromotions.self, ShowPromotion.self, ApprovePromotion.self, RejectPromotion.self,
            CancelPromotion.self,
        ])
}

struct ListPromotions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List promotions, newest first.")
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("Only promotions into this environment.", valueName: "ENV")) var env: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let promotions = try await connection.with { try await $0.send(.promotions(environment: env)) }
        if json {
            try Output.json(promotions)
            return
        }
        let formatter = ISO8601DateFormatter()
        Terminal.detect().table(
            header: ["ID", "RELEASE", "FROM", "TO", "STATE", "SITES DONE", "REQUESTED", "BY"],
            rows: promotions.map { promotion in
                [
                    promotion.id, promotion.release, promotion.source, promotion.target, promotion.state.rawValue,
                    "\(promotion.sites.filter { $0.state == .done }.count)/\(promotion.sites.count)",
                    formatter.string(from: promotion.createdAt), promotion.requestedBy,
                ]
            })
    }
}

struct ShowPromotion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a promotion: its gates, decisions and sites.")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The promotion's ID.", valueName: "PROMOTION")) var id: String
    @Flag(help: "Keep following it until it ends.") var follow = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let view = try await connection.with { server in
            let view = try await server.send(.promotion(id))
            return follow ? try await PromotionFollower.follow(view, server: server, quiet: json) : view
        }
        if json {
            try Output.json(view)
        } else if !follow {
            for line in PromotionFollower.render(view, terminal: terminal) { terminal.line(line) }
        }
    }
}

struct CancelPromotion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Stop a promotion: sites not started stay as they are; rollouts in flight are cancelled.")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The promotion's ID.", valueName: "PROMOTION")) var id: String

    func run() async throws {
        let view = try await connection.with { try await $0.send(.cancelPromotion(id)) }
        print("Promotion \(view.id) is \(view.state.rawValue) now.")
    }
}

/// Shows promotions in a terminal and follows them.
enum PromotionFollower {
    static func render(_ view: PromotionView, terminal: Terminal) -> [String] {
        var lines = [
            view.state == .dryRun
                ? "Dry run of promoting \(view.release) from \(view.source) to \(view.target): \(view.message)"
                : "Promotion \(view.id) of \(view.release) from \(view.source) to \(view.target): \(view.state.rawValue)"
                    + (view.message.isEmpty ? "" : " — \(view.message)")
        ]
        if let reason = view.emergency { lines.append(terminal.red("EMERGENCY CHANGE: \(reason)")) }
        lines.append("Gates:")
        for gate in view.gates {
            let mark = gate.open ? terminal.green("✔ open  ") : terminal.red("✘ closed")
            lines.append(
                "  \(mark)  \(gate.name.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(gate.detail)")
        }
        if !view.decisions.isEmpty {
            lines.append("Decisions:")
            for decision in view.decisions {
                lines.append(
                    "  \(decision.approver): \(decision.decision.rawValue)"
                        + (decision.reason.isEmpty ? "" : " — \(decision.reason)"))
            }
        }
        lines.append("Sites:")
        let width = view.sites.map(\.site.count).max() ?? 4
        for site in view.sites {
            let state = site.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            let colored: String =
                switch site.state {
                case .done: terminal.green(state)
                case .failed: terminal.red(state)
                case .pending, .notStarted: terminal.dim(state)
                case .rollingOut: terminal.cyan(state)
                }
            // A site with nothing to change has no wave; only the first site that changes is the canary.
            let wave = site.wave.map { $0 == 0 ? "canary" : "wave \($0)" } ?? "-"
            lines.append(
                "  \(site.site.padding(toLength: width, withPad: " ", startingAt: 0))  \(wave.padding(toLength: 7, withPad: " ", startingAt: 0))  \(colored) \(site.detail)"
            )
        }
        return lines
    }

    /// Polls until the promotion ends, printing each site change as one line.
    static func follow(
        _ first: PromotionView, server: OrchestratorConnection, quiet: Bool
    ) async throws
        -> PromotionView
    {
        let terminal = Terminal.detect()
        var view = first
        var shown: [String: String] = [:]
        let start = Date()
        let changes = ServerChanges(server: server, environment: first.target) { event in
            [.promotion, .rollout, .rolloutStep].contains(event.type)
        }
        defer { changes.stop() }
        while true {
            if !quiet {
                for site in view.sites where shown[site.site] != "\(site.state.rawValue) \(site.detail)" {
                    shown[site.site] = "\(site.state.rawValue) \(site.detail)"
                    terminal.line(
                        "\(RolloutFollower.elapsed(Date().timeIntervalSince(start)))  \(site.site)  \(site.state.rawValue)  \(site.detail)"
                    )
                }
            }
            if !view.state.isActive {
                if !quiet { for line in render(view, terminal: terminal) { terminal.line(line) } }
                return view
            }
            await changes.next()
            view = try await server.send(.promotion(first.id))
        }
    }

    static func decide(
        _ call: APICall<DecisionRequest, PromotionView>, json: Bool, connection: ServerConnectionOption
    ) async throws {
        let view = try await connection.with { try await $0.send(call) }
        if json {
            try Output.json(view)
            return
        }
        let terminal = Terminal.detect()
        for line in render(view, terminal: terminal) { terminal.line(line) }
    }
}
