import AgentCore
import FoundationEssentials
import Glibc
import StellwerkAPI

/// `stellwerk-agent apply` for fault tests, with one thing the real agent cannot do: stop at a step.
///
///     stellwerk-test-agent apply --desired FILE --data DIR --orchestrator-key FILE --artifacts DIR \
///         [--pause-at STEP]
///
/// With `--pause-at STEP` it writes `paused-at-STEP` into the data folder when it has journaled that
/// step and waits there, so a test can kill it at exactly that point. It is built only as a test
/// product; the agent that ships has no such hook.
@main
enum TestAgent {
    static func main() async {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        guard arguments.popFirst() == "apply" else { fail("usage: stellwerk-test-agent apply --desired FILE …") }
        while let name = arguments.popFirst(), let value = arguments.popFirst() { options[name] = value }
        guard let desired = options["--desired"], let data = options["--data"],
            let key = options["--orchestrator-key"], let artifacts = options["--artifacts"]
        else { fail("--desired, --data, --orchestrator-key and --artifacts are required") }
        do {
            let (state, reconciler, _) = try LocalDesiredState.prepare(
                desired: desired, data: data, orchestratorKey: key, artifacts: artifacts, secrets: options["--secrets"])
            if let step = options["--pause-at"] {
                let marker = URL(fileURLWithPath: data).appendingPathComponent("paused-at-\(step)").path
                reconciler.state.afterJournal = { journaled in
                    guard journaled == step else { return }
                    _ = FileManager.default.createFile(atPath: marker, contents: nil)
                    while true { pause() }
                }
            }
            let report = await reconciler.apply(state)
            StandardStreams.write(try WireJSON.encoder(pretty: true).encode(report) + Data("\n".utf8), to: .output)
            exit(report.instances.contains { $0.lastError != nil } ? 1 : 0)
        } catch {
            fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        StandardStreams.write(Data("stellwerk-test-agent: \(message)\n".utf8), to: .error)
        exit(64)
    }
}
