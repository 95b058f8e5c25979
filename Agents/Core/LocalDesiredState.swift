import FoundationEssentials
package import StellwerkAPI

/// A desired state given as a file (`apply`, `run --desired`), with the key it must be signed with
/// and the folder its artifacts are in: the agent without an orchestrator.
package enum LocalDesiredState {
    /// Reads the desired state (`-` for standard input), the key and the secrets, and opens the
    /// agent's state in `data`.
    package static func prepare(
        desired: String, data: String, orchestratorKey: String, artifacts: String, secrets: String?
    ) throws -> (NodeDesiredState, Reconciler) {
        let desiredData: Data
        if desired == "-" {
            desiredData = try StandardStreams.readInput()
        } else {
            guard let contents = FileManager.default.contents(atPath: desired) else {
                throw AgentError("cannot read the desired state \(desired)")
            }
            desiredData = contents
        }
        let state: NodeDesiredState
        do {
            state = try WireJSON.decoder().decode(NodeDesiredState.self, from: desiredData)
        } catch {
            throw AgentError("\(desired) is not a desired state: \(error)")
        }
        guard let keyText = try? String(contentsOfFile: orchestratorKey, encoding: .utf8),
            let key = Data(base64Encoded: keyText.trimmedOfWhitespace), key.count == 32
        else {
            throw AgentError("\(orchestratorKey) does not hold a base64 Ed25519 public key (32 bytes)")
        }
        let folder = URL(fileURLWithPath: data)
        let reconciler = Reconciler(
            configuration: AgentConfiguration(
                dataFolder: folder, orchestratorKey: key, artifactFolder: URL(fileURLWithPath: artifacts),
                secrets: try readSecrets(secrets)),
            state: try AgentState(folder: folder))
        return (state, reconciler)
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
