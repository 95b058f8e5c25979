import AgentCore
import FoundationEssentials
import Identity
import OrchestratorClient
import StellwerkAPI

/// The agent's side of the orchestrator: long-polling for desired state, reporting, downloading
/// artifacts into the cache, and renewing the node certificate — all over mutual TLS, and all
/// patient when the server is away. An orchestrator of several servers names them all; when the one
/// the agent talks to goes away, it goes on with the next (same identity, same desired state: they
/// share one store).
actor Orchestrator: ArtifactSource {
    private nonisolated let identity: NodeIdentity
    private nonisolated let settings: OrchestratorSettings
    /// The servers to try, the current one at `current`.
    private var servers: [String]
    private var current = 0
    private var connection: OrchestratorConnection
    /// The list of servers the orchestrator last gave.
    private var listed: [String]?
    private var unreachableSince: ContinuousClock.Instant?

    init(identity: NodeIdentity) throws {
        self.identity = identity
        guard let contents = FileManager.default.contents(atPath: identity.orchestratorFile.path),
            let settings = try? WireJSON.decoder().decode(OrchestratorSettings.self, from: contents)
        else { throw AgentError("\(identity.orchestratorFile.path) is missing or unreadable; join the node again") }
        self.settings = settings
        servers = settings.candidates
        listed = settings.urls
        connection = try OrchestratorConnection(identity: identity, url: settings.url)
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
    /// this node opened, to `receive` the moment the server answers. A server that cannot be reached
    /// is left for the next one at once; once none could, it backs off from 1 s to 30 s.
    func poll(from serial: Int, receive: @Sendable (DesiredStateResponse, DeliveredSecrets?) -> Void) async {
        var known = serial
        var pause = Duration.seconds(1)
        var failedInARow = 0
        while !Task.isCancelled {
            do {
                let list = OrchestratorSettings.digest(of: listed ?? [])
                if var desired = try await connection.send(
                    .desiredState(known: known, wait: 25, orchestrators: list), timeoutSeconds: 40)
                {
                    if let urls = desired.orchestrators, urls != listed { remember(urls) }
                    // Not newer: only the list of servers changed (at serial 0, nothing was ever given).
                    guard desired.serial > max(known, 0) else {
                        reachable()
                        continue
                    }
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
                failedInARow = 0
            } catch is CancellationError {
                return
            } catch {
                unreachable(error)
                failedInARow += 1
                if Self.isServerGone(error), servers.count > 1 {
                    moveOn(after: error)
                    // Every server tried once: wait before the next round.
                    if failedInARow % servers.count != 0 {
                        // Not all at once: the thousands of agents of a server that died would
                        // otherwise knock at the next one in the same instant.
                        try? await Task.sleep(for: Self.failoverSpread())
                        continue
                    }
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
            }
        }
    }

    /// Sends a report; `false` when it did not arrive (the loop tries again, by then perhaps to
    /// another server).
    func send(_ report: NodeReport) async -> Bool {
        do {
            _ = try await connection.send(.report(report))
            reachable()
            return true
        } catch {
            unreachable(error)
            if Self.isServerGone(error) { moveOn(after: error) }
            return false
        }
    }

    func download(sha256: String, to file: URL) async throws {
        do {
            try await connection.download(sha256: sha256, to: file)
        } catch  where Self.isServerGone(error) && servers.count > 1 {
            // Resumed from where it ended, from the next server: they hand out the same bytes.
            moveOn(after: error)
            try await connection.download(sha256: sha256, to: file)
        }
    }

    /// A random pause of up to 2 s before an agent turns to the next server.
    static func failoverSpread() -> Duration { .milliseconds(Int.random(in: 0...2_000)) }

    /// Unreachable, or failing on its side (its store away, say): another server may do better. A
    /// refusal (a revoked certificate, a bad request) would be the same from every server.
    private static func isServerGone(_ error: any Error) -> Bool {
        guard let error = error as? ClientError else { return false }
        if error.code == .unreachable { return true }
        return (error.status ?? 0) >= 500
    }

    /// Goes on with the next server.
    private func moveOn(after error: any Error) {
        let from = servers[current]
        current = (current + 1) % servers.count
        if connectToCurrent() {
            log("the orchestrator server at \(from) failed (\(error)); going on with \(servers[current])")
        }
    }

    /// Talks to `servers[current]` from now on; false (and said) when its connection cannot be made.
    private func connectToCurrent() -> Bool {
        do {
            let old = connection
            connection = try OrchestratorConnection(identity: identity, url: servers[current])
            Task { await old.shutdown() }
            return true
        } catch {
            log("cannot use the orchestrator server at \(servers[current]): \(error)")
            return false
        }
    }

    /// Keeps the list of servers the orchestrator gave, for this run and the next.
    private func remember(_ urls: [String]) {
        var updated = settings
        updated.urls = urls
        let talkingTo = servers[current]
        servers = updated.candidates
        current = servers.firstIndex(of: talkingTo) ?? 0
        if servers[current] != talkingTo { _ = connectToCurrent() }
        // Taken for this run even when it cannot be kept: asked again, the server would answer at once.
        listed = urls
        do {
            try PrivateFiles.write(WireJSON.encoder(pretty: true).encode(updated), to: identity.orchestratorFile)
            log("the orchestrator's servers are now: \(urls.joined(separator: ", "))")
        } catch {
            log("cannot keep the orchestrator's list of servers in \(identity.orchestratorFile.path): \(error)")
        }
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
            connection = try OrchestratorConnection(identity: identity, url: servers[current])
            await old.shutdown()
            log("renewed the node certificate; it is valid until \(try identity.certificateExpiry())")
        } catch {
            log("renewing the node certificate failed, trying again in \(renewalCheckInterval): \(error)")
        }
    }

    private func reachable() {
        if unreachableSince != nil { log("reached the orchestrator at \(servers[current]) again") }
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
