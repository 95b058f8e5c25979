import ArgumentParser
import StellwerkAPI

/// `stellwerk`: the operator's command line.
@main
struct StellwerkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stellwerk",
        abstract: "Deploy the open data platform from sandbox to live, municipality by municipality.",
        discussion: """
            Stellwerk reads blueprints (Blueprints/) and environments (Environments/) from the current \
            folder or a parent of it, checks them, and plans what must change on each node.

            Examples:
              stellwerk validate
              stellwerk plan --env sandbox
              stellwerk plan --env live --state live-state.json --out live.plan.json
              stellwerk plan show live.plan.json
              stellwerk apply --env sandbox --release r-1a2b3c4d5e6f
              stellwerk status
              stellwerk audit verify

            Commands that talk to an orchestrator read STELLWERK_SERVER, STELLWERK_TOKEN and STELLWERK_CA.
            """,
        version: StellwerkVersion.current,
        subcommands: [
            // The habitual verbs first: check, plan, apply, look, go back, promote, run locally.
            ValidateCommand.self, PlanCommand.self, ApplyCommand.self, StatusCommand.self, RollbackCommand.self,
            PromoteCommand.self, OnboardCommand.self, UpCommand.self, DownCommand.self, ServerCommand.self,
            // Then each noun with its verbs.
            RolloutCommand.self, ReleaseCommand.self, PromotionCommand.self, NodeCommand.self, UserCommand.self,
            TokenCommand.self, PolicyCommand.self, SecretCommand.self,
            LockCommand.self, AuditCommand.self, StoreCommand.self,
        ])
}
