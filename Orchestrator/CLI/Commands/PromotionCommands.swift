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
            The source is the environment whose `promotes_to` names ENV. Three gates are shown one by
            one, each open or closed with the reason:
              verified   the release runs healthy on every node of the source for the soak time;
              approvals  enough holders of the approver role other than you approved (four eyes);
              windows    each site is only changed inside its maintenance window (Europe/Berlin).
            A release that is not verified is refused. Otherwise the promotion waits for approvals,
            then rolls out the canary site alone, then the other sites. --dry-run evaluates the gates and
            shows the per-site plan without starting anything (exit status 1 when it would be refused).

            Examples:
              stellwerk promote r-1a2b3c4d5e6f --to live --dry-run
              stellwerk promote r-1a2b3c4d5e6f --to live --message "Pegel-Dienst 2026.11"
              stellwerk approve pr-1a2b3c4d
            """)

    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The release to promote (an ID the orchestrator holds).", valueName: "RELEASE"))
    var release: String
    @Option(help: ArgumentHelp("The environment to promote into, such as live.", valueName: "ENV")) var to: String
    @Option(help: ArgumentHelp("Why, for the approvers and the audit log.", valueName: "TEXT")) var message: String?
    @Flag(help: "Show the gates and the per-site plan; start nothing.") var dryRun = false
    @Flag(help: "Follow the promotion until it ends.") var follow = false
    @Flag(help: "Print the promotion as JSON.") var json = false

    func run() async throws {
        let terminal = Terminal.detect()
        let view: PromotionView = try await connection.with { server in
            let (plan, _) = try await ServerPlanning.plan(
                to, release: release, workspace: workspace, server: server, terminal: terminal)
            guard plan.promotion != nil else {
                throw CLIError(
                    "no environment promotes to \(to); name it in another environment's promotes_to to promote into it")
            }
            let requested = try await server.json(
                "POST", "/v1/promotions", body: PromotionRequest(plan: plan, dryRun: dryRun, message: message),
                as: PromotionView.self)
            if follow && !dryRun { return try await PromotionFollower.follow(requested, server: server, quiet: json) }
            return requested
        }
        if json {
            FileHandle.standardOutput.write(try CLIJSON.encode(view))
        } else if !follow || dryRun {
            for line in PromotionFollower.render(view, terminal: terminal) { terminal.line(line) }
            if view.state == "waiting" {
                terminal.line(
                    "Promotion \(view.id) waits for approvals: an approver runs `stellwerk approve \(view.id)`.")
            }
        }
        if dryRun, view.gates.first(where: { $0.name == "verified" })?.open != true { throw ExitCode(1) }
        if follow, !dryRun, view.state != "succeeded" { throw ExitCode(1) }
    }
}

/// `stellwerk approve PROMOTION` and `stellwerk reject PROMOTION --reason`.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a promotion (approver role; not your own).",
        discussion: """
            Examples:
              stellwerk approve pr-1a2b3c4d
              stellwerk approve pr-1a2b3c4d --reason "checked the sandbox portal"
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The promotion's ID.", valueName: "PROMOTION")) var id: String
    @Option(help: ArgumentHelp("A note for the audit log.", valueName: "TEXT")) var reason = ""
    @Flag(help: "Print the promotion as JSON.") var json = false

    func run() async throws {
        try await PromotionFollower.decide("approve", id: id, reason: reason, json: json, connection: connection)
    }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a promotion (approver role); it ends without touching any site.",
        discussion: """
            Example:
              stellwerk reject pr-1a2b3c4d --reason "the sandbox portal shows no datasets"
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The promotion's ID.", valueName: "PROMOTION")) var id: String
    @Option(help: ArgumentHelp("Why; required.", valueName: "TEXT")) var reason: String
    @Flag(help: "Print the promotion as JSON.") var json = false

    func run() async throws {
        try await PromotionFollower.decide("reject", id: id, reason: reason, json: json, connection: connection)
    }
}

/// `stellwerk promotion list|show|cancel`.
struct PromotionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promotion",
        abstract: "List, show or cancel promotions.",
        discussion: """
            Promotion states: waiting (for approvals), rolling-out, succeeded, failed (a site's rollout
            failed; later sites were not started), rejected, cancelled.

            Examples:
              stellwerk promotion list --env live
              stellwerk promotion show pr-1a2b3c4d --follow
              stellwerk promotion cancel pr-1a2b3c4d
            """,
        subcommands: [ListPromotions.self, ShowPromotion.self, CancelPromotion.self])
}

struct ListPromotions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List promotions, newest first.")
    @OptionGroup var connection: ServerConnectionOption
    @Option(help: ArgumentHelp("Only promotions into this environment.", valueName: "ENV")) var env: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let path = "/v1/promotions" + (env.map { "?env=\($0)" } ?? "")
        let promotions = try await connection.with { try await $0.json("GET", path, as: [PromotionView].self) }
        if json {
            FileHandle.standardOutput.write(try CLIJSON.encode(promotions))
            return
        }
        let formatter = ISO8601DateFormatter()
        Terminal.detect().table(
            header: ["ID", "RELEASE", "FROM", "TO", "STATE", "SITES DONE", "REQUESTED", "BY"],
            rows: promotions.map { promotion in
                [
                    promotion.id, promotion.release, promotion.source, promotion.target, promotion.state,
                    "\(promotion.sites.filter { $0.state == "done" }.count)/\(promotion.sites.count)",
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
            let view = try await server.json("GET", "/v1/promotions/\(id)", as: PromotionView.self)
            return follow ? try await PromotionFollower.follow(view, server: server, quiet: json) : view
        }
        if json {
            FileHandle.standardOutput.write(try CLIJSON.encode(view))
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
        let view = try await connection.with {
            try await $0.json("POST", "/v1/promotions/\(id)/cancel", body: nil as Data?, as: PromotionView.self)
        }
        print("Promotion \(view.id) is \(view.state) now.")
    }
}

/// Shows promotions in a terminal and follows them.
enum PromotionFollower {
    static func render(_ view: PromotionView, terminal: Terminal) -> [String] {
        var lines = [
            view.state == "dry-run"
                ? "Dry run of promoting \(view.release) from \(view.source) to \(view.target): \(view.message)"
                : "Promotion \(view.id) of \(view.release) from \(view.source) to \(view.target): \(view.state)"
                    + (view.message.isEmpty ? "" : " — \(view.message)")
        ]
        lines.append("Gates:")
        for gate in view.gates {
            let mark = gate.open ? terminal.green("✔ open  ") : terminal.red("✘ closed")
            lines.append("  \(mark)  \(gate.name.padding(toLength: 9, withPad: " ", startingAt: 0))  \(gate.detail)")
        }
        if !view.decisions.isEmpty {
            lines.append("Decisions:")
            for decision in view.decisions {
                lines.append(
                    "  \(decision.approver): \(decision.decision)"
                        + (decision.reason.isEmpty ? "" : " — \(decision.reason)"))
            }
        }
        lines.append("Sites:")
        let width = view.sites.map(\.site.count).max() ?? 4
        for site in view.sites {
            let state = site.state.padding(toLength: 12, withPad: " ", startingAt: 0)
            let colored: String =
                switch site.state {
                case "done": terminal.green(state)
                case "failed": terminal.red(state)
                case "pending", "not-started": terminal.dim(state)
                default: terminal.cyan(state)
                }
            let wave = site.wave == 0 ? "canary" : "wave \(site.wave)"
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
        while true {
            if !quiet {
                for site in view.sites where shown[site.site] != "\(site.state) \(site.detail)" {
                    shown[site.site] = "\(site.state) \(site.detail)"
                    terminal.line(
                        "\(RolloutFollower.elapsed(Date().timeIntervalSince(start)))  \(site.site)  \(site.state)  \(site.detail)"
                    )
                }
            }
            if !["waiting", "rolling-out"].contains(view.state) {
                if !quiet { for line in render(view, terminal: terminal) { terminal.line(line) } }
                return view
            }
            try await Task.sleep(for: .milliseconds(500))
            view = try await server.json("GET", "/v1/promotions/\(first.id)", as: PromotionView.self)
        }
    }

    static func decide(
        _ decision: String, id: String, reason: String, json: Bool, connection: ServerConnectionOption
    ) async throws {
        let view = try await connection.with {
            try await $0.json(
                "POST", "/v1/promotions/\(id)/\(decision)", body: DecisionRequest(reason: reason),
                as: PromotionView.self)
        }
        if json {
            FileHandle.standardOutput.write(try CLIJSON.encode(view))
            return
        }
        let terminal = Terminal.detect()
        for line in render(view, terminal: terminal) { terminal.line(line) }
    }
}
