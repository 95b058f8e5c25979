import ArgumentParser
import StellwerkAPI

/// The node agent's entry point.
///
/// The reconcile loop, artifact install and supervision arrive with the agent issue; until then the
/// executable answers `--version` and refuses every other use with a clear message and a non-zero exit.
@main
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stellwerk-agent",
        abstract: "Keep one municipal server at its desired state (not implemented yet).",
        discussion: """
            The agent is not built yet: only --version works. See docs/ for what exists today.

            Example:
              stellwerk-agent --version
            """,
        version: StellwerkVersion.current)

    @Argument(help: "Reserved for the agent's subcommands.")
    var arguments: [String] = []

    func run() throws {
        throw ValidationError("the node agent is not implemented yet; only --version works")
    }
}
