import ArgumentParser

/// The platform services' entry point (`datenplattform catalog|portal|visualization|sensors`).
///
/// The services arrive with their own issues; until then the executable answers `--version` and
/// refuses every other use with a clear message and a non-zero exit.
@main
struct DatenplattformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datenplattform",
        abstract: "Run one service of the open data platform (not implemented yet).",
        discussion: """
            The services are not built yet: only --version works.

            Example:
              datenplattform --version
            """,
        version: "0.1.0-dev")

    @Argument(help: "Reserved for the service subcommands.")
    var arguments: [String] = []

    func run() throws {
        throw ValidationError("the platform services are not implemented yet; only --version works")
    }
}
