import AgentCore
import FoundationEssentials
import Identity
import OrchestratorClient
import StellwerkAPI

/// The agent's side of the orchestrator: long-polling for desired state, reporting, downloading
/// artifacts into the cache, and renewing the node certificate — all over mutual TLS, and all
/// patient when the server is away.
actor Orchestrator: ArtifactSource {
    private nonisolated let identity: NodeIdentity
    private nonisolated let settings: OrchestratorSettings
    private var connection: OrchestratorConnection
    private var unreachableSince: ContinuousClock.Instant?

    init(identity: NodeIdentity) throws {
        self.identity = identity
        guard let contents = FileManager.default.contents(atPath: identity.orchestratorFile.path),
            let settings = try? WireJSON.decoder().decode(OrchestratorSettings.self, from: contents)
        else { throw AgentError("\(identity.orchestratorFile.path) is missing or unreadable; join the node again") }
        self.settings = settings
        connection = try OrchestratorConnection(identity: identity, settings: settings)
    }

    nonisolated var node: String { settings.node }
    nonisolated var environment: String { settings.environment }

    nonisolated func signingKey() throws -> Data {
        guard let key = Data(base64Encoded: settings.signingKey), key.count == 32 else {
            throw AgentError("\(identity.orchestratorFile.path) holds no Ed25519 signing key")
        }
        return key
    }

    /// Long-polls until cancelled, handing each newer desired state, with the secret values sealed to
    /// this node opened, to `receive` the moment the server answers; backs off from 1 s to 30 s while
    /// the server cannot be reached.
    func poll(from serial: Int, receive: @Sendable (DesiredStateResponse, DeliveredSecrets?) -> Void) async {
        var known = serial
        var pause = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                if var desired = try await connection.send(.desiredState(known: known, wait: 25), timeoutSeconds: 40) {
                    // Sealed to the key of the certificate this request presented; a renewal in between
                    // means asking again, which the server then seals to the new key.
                    let secrets = try desired.secrets.map {
                        try SecretSealing.open(
                            $0, with: try identity.privateKey(), environment: settings.environment, node: settings.node,
                            serial: desired.serial)
                    }
                    desired.secrets = nil
                    known = desired.serial
                    receive(desired, secrets)
                }
                reachable()
                pause = .seconds(1)
            } catch is CancellationError {
                return
            } catch {
                unreachable(error)
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
            }
        }
    }

    /// Sends a report; `false` when it did not arrive (the loop tries again).
    func send(_ report: NodeReport) async -> Bool {
        do {
            _ = try await connection.send(.report(report))
            reachable()
            return true
        } catch {
            unreachable(error)
            return false
        }
    }

    func download(sha256: String, to file: URL) async throws {
        try await connection.download(sha256: sha256, to: file)
    }

    /// Renews the node certificate with a fresh key once two thirds of its lifetime have passed,
    /// looking every hour (or every tenth of a shorter lifetime), until cancelled. A server that is
    /// away at that moment is asked again at the next look.
    func renewPeriodically() async {
        while !Task.isCancelled {
            await renewIfDue()
            do { try await Task.sleep(for: renewalCheckInterval) } catch { return }
        }
    }

    private nonisolated var renewalCheckInterval: Duration {
        let lifetime = (try? identity.certificateLifetime()) ?? 30 * 86_400
        return .seconds(min(3600, max(1, Int(lifetime / 10))))
    }

    private func renewIfDue() async {
        guard (try? identity.renewalDue()) == true else { return }
        do {
            let (key, request) = try NodeIdentity.makeRequest()
            let answer = try await connection.send(.renewCertificate(RenewalRequest(certificateRequest: request)))
            try identity.store(key: key, certificate: answer.certificate)
            let old = connection
            connection = try OrchestratorConnection(identity: identity, settings: settings)
            await old.shutdown()
            log("renewed the node certificate; it is valid until \(try identity.certificateExpiry())")
        } catch {
            log("renewing the node certificate failed, trying again in \(renewalCheckInterval): \(error)")
        }
    }

    private func reachable() {
        if unreachableSince != nil { log("reached the orchestrator at \(settings.url) again") }
        unreachableSince = nil
    }

    private func unreachable(_ error: any Error) {
        if unreachableSince == nil {
            unreachableSince = .now
            log("the orchestrator is unreachable (\(error)); keeping the last desired state and retrying")
        }
    }

    private func log(_ message: String) {
        StandardStreams.write(Data("stellwerk-agent: \(message)\n".utf8), to: .error)
    }
}
