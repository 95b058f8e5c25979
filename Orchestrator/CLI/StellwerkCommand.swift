import ArgumentParser
import StellwerkAPI

/// `stellwerk`: the operator's command line.
@main
struct StellwerkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stellwerk",
        abstract: "Deploy the open data platform from sandbox to live, municipality by municipality.",
        discussion: """
            Stellwerk reads blueprints (Blueprints/) and environments (Environments/) from the current
            folder or a parent of it, checks them, and plans what must change on each node.

            Examples:
              stellwerk validate
              stellwerk plan --env sandbox
              stellwerk plan --env live --state live-state.json --out live.plan.json
              stellwerk plan show live.plan.json
              stellwerk audit verify
            """,
        version: StellwerkVersion.current,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, LocksCommand.self, AuditCommand.self, StoreCommand.self,
        ])
}
