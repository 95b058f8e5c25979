import FoundationEssentials
package import StellwerkAPI

/// A desired state given as a file (`apply`, `run --desired`), with the key it must be signed with
/// and the folder its artifacts are in: the agent without an orchestrator.
package enum LocalDesiredState {
    /// Reads the desired state (`-` for standard input), the key and the secrets, and opens the
    /// agent's state in `data`. The state may come as an orchestrator pushes it (``PushedState``:
    /// with its serial and secret values); the serial is returned for the report.
    package static func prepare(
        desired: String, data: String, orchestratorKey: String, artifacts: String, secrets: String?
    ) throws -> (NodeDesiredState, Reconciler, serial: Int?) {
        let desiredData: Data
        if desired == "-" {
            desiredData = try StandardStreams.readInput()
        } else {
            guard let contents = FileManager.default.contents(atPath: desired) else {
                throw AgentError("cannot read the desired state \(desired)")
            }
            desiredData = contents
        }
        let pushed = try? WireJSON.decoder().decode(PushedState.self, from: desiredData)
        let state: NodeDesiredState
        do {
            state = try pushed?.state ?? WireJSON.decoder().decode(NodeDesiredState.self, from: desiredData)
        } catch {
            throw AgentError("\(desired) is not a desired state: \(error)")
        }
        if pushed?.secrets != nil, secrets != nil {
            throw AgentError("the pushed state carries its secrets; --secrets is for a state without")
        }
        guard let keyText = try? String(contentsOfFile: orchestratorKey, encoding: .utf8),
            let key = Data(base64Encoded: keyText.trimmedOfWhitespace), key.count == 32
        else {
            throw AgentError("\(orchestratorKey) does not hold a base64 Ed25519 public key (32 bytes)")
        }
        let folder = URL(fileURLWithPath: data)
        var configuration = AgentConfiguration(
            dataFolder: folder, orchestratorKey: key, artifactFolder: URL(fileURLWithPath: artifacts),
            secrets: try pushed?.secrets?.values ?? readSecrets(secrets))
        configuration.refusedSecrets = pushed?.secrets?.refused ?? [:]
        let reconciler = Reconciler(configuration: configuration, state: try AgentState(folder: folder))
        return (state, reconciler, pushed?.serial)
    }

    /// The node's secret values: a JSON object of names and values, or none.
    package static func readSecrets(_ secrets: String?) throws -> [String: String] {
        guard let secrets else { return [:] }
        guard let contents = FileManager.default.contents(atPath: secrets),
            let values = try? WireJSON.decoder().decode([String: String].self, from: contents)
        else { throw AgentError("\(secrets) is not a JSON object of secret names and values") }
        return values
    }
}
