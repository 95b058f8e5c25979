import AgentCore
import ArgumentParser
import FoundationEssentials
import StellwerkAPI

/// The node agent's entry point.
@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stellwerk-agent",
        abstract: "Keep one municipal server at its desired state.",
        discussion: """
            `join` enrolls the node with its orchestrator once (a join token and the CA fingerprint); \
            `run` then keeps the node at the desired state it pulls over mutual TLS. `apply` converges \
            once to a desired state from a file and prints a JSON report (for tests and air-gapped nodes).

            Examples:
              stellwerk-agent join https://stellwerk.example:8443 --token-file join.token \\
                --ca-fingerprint 3f1c…e9 --data /var/lib/stellwerk
              stellwerk-agent run --data /var/lib/stellwerk
              stellwerk-agent apply --desired node.json --data /var/lib/stellwerk \\
                --orchestrator-key /etc/stellwerk/orchestrator.pub --artifacts /var/lib/stellwerk/artifacts
            """,
        version: StellwerkVersion.current,
        subcommands: [JoinCommand.self, RunCommand.self, ApplyCommand.self])
}

/// `stellwerk-agent apply`: converge once and report.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Converge this node once to a desired state and print the report as JSON.",
        discussion: """
            Per instance: verify the release's signature and the artifact's SHA-256, unpack it into a new \
            release folder, render its config, back up and migrate its data when the release brings new \
            migrations, stop the old process, start the new one and wait for its health check, then switch \
            `current` to it. If anything fails after the old process stopped, the data is restored and the \
            previous release runs again. Instances no longer desired are stopped; their data is kept.

            The state may also be what an orchestrator pushes over SSH to a node that cannot call out \
            (`transport: ssh`): the state with the serial it was written at and the secret values it \
            names, which are kept in memory and the rendered configs only.

            Exit status 0 when every instance runs its desired release, 1 when one failed (the report says \
            which and why), 64 for a wrong command line.

            Example:
              stellwerk-agent apply --desired - --data ./node --orchestrator-key key.pub --artifacts ./artifacts < node.json
            """)

    @Option(help: ArgumentHelp("The desired state (JSON), or - for standard input.", valueName: "FILE"))
    var desired: String

    @Option(help: ArgumentHelp("The agent's data folder.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("The orchestrator's Ed25519 public key, base64.", valueName: "FILE"))
    var orchestratorKey: String

    @Option(help: ArgumentHelp("A folder of artifacts named <sha256>.tar.", valueName: "DIR"))
    var artifacts: String

    @Option(help: ArgumentHelp("Secret values for this node (JSON name → value, mode 0600).", valueName: "FILE"))
    var secrets: String?

    func run() async throws {
        let (state, reconciler, serial): (NodeDesiredState, Reconciler, Int?)
        do {
            (state, reconciler, serial) = try LocalDesiredState.prepare(
                desired: desired, data: data, orchestratorKey: orchestratorKey, artifacts: artifacts, secrets: secrets)
        } catch let error as AgentError {
            throw ValidationError(error.description)
        }
        var report = await reconciler.apply(state)
        report.desiredSerial = serial
        StandardStreams.write(try WireJSON.encoder(pretty: true).encode(report) + Data("\n".utf8), to: .output)
        if report.instances.contains(where: { $0.lastError != nil }) { throw ExitCode(1) }
    }
}
