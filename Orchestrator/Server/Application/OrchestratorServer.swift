import Artifacts
package import Authority
import Crypto
package import Foundation
package import Hummingbird
import HummingbirdTLS
import Identity
package import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import StellwerkAPI
package import Store

/// How to run the server.
package struct ServerConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// Names and addresses agents and operators reach the server by; its certificate covers them.
    package var advertisedHosts: [String]
    /// How long a node may stay silent before it counts as disconnected (outside rollouts, which use
    /// their environment's `lost_after`).
    package var lostAfter: TimeInterval
    /// How often the rollout and promotion engines look at what changed.
    package var engineTick: Duration
    /// Connections one client address may hold, and how long a TLS handshake may take.
    package var connectionLimits = ConnectionGuard.Limits()
    /// Refused joins one client address may have a minute (and three times as many at once).
    package var refusedJoinsPerMinute = 10
    /// How long a node certificate lasts; agents renew after two thirds of it.
    package var nodeCertificateLifetime = CertificateAuthority.nodeCertificateLifetime
    /// The key-encryption key secrets are sealed with in the store (and keys it replaces); the server
    /// command reads it from a file. The default is a key of this process alone, for tests.
    package var secretKeyring = SecretKeyring(current: SymmetricKey(size: .bits256))
    /// Whether approvers may read secret values back (a local platform only).
    package var revealSecrets = false
    /// The key the orchestrator signs in with to nodes it pushes to (`transport: ssh`).
    package var sshKey: URL?
    /// How often a settled push node is pushed to again.
    package var pushInterval: Duration = .seconds(15)
    /// How long a console sign-in lasts (8 hours by default).
    package var consoleSessionLifetime: TimeInterval = 8 * 3600
    /// The address agents reach this server by, handed to every agent with those of the other servers
    /// of the store; nil: `https://` the first advertised host and the bound port.
    package var advertiseURL: String?

    /// - Parameters:
    ///   - lostAfter: default 120 s.
    ///   - engineTick: default 500 ms.
    package init(
        host: String, port: Int, advertisedHosts: [String], lostAfter: TimeInterval = 120,
        engineTick: Duration = .milliseconds(500)
    ) {
        self.host = host
        self.port = port
        self.advertisedHosts = advertisedHosts
        self.lostAfter = lostAfter
        self.engineTick = engineTick
    }
}

/// The control plane: agent enrollment and the agent API over mutual TLS, the operator API over
/// bearer tokens, artifacts with Range requests, an event stream, metrics, and the rollout and
/// promotion engines. One `ServiceGroup` runs the HTTP server and the engines and stops them in
/// order on SIGTERM or SIGINT.
package struct OrchestratorServer: Sendable {
    package let configuration: ServerConfiguration
    package let files: ServerFiles
    package let store: StateStore
    package let logger: Logger
    let hub = EventHub()
    let metrics = ServerMetrics()
    let refusals: RefusalAudit
    let joins: JoinRateLimit
    let consoleSessions: ConsoleSessions
    let roster: ServerRoster

    package init(configuration: ServerConfiguration, files: ServerFiles, store: StateStore, logger: Logger) {
        self.configuration = configuration
        self.files = files
        self.store = store
        self.logger = logger
        refusals = RefusalAudit(store: store, logger: logger)
        joins = JoinRateLimit(
            burst: 3 * configuration.refusedJoinsPerMinute, perMinute: configuration.refusedJoinsPerMinute)
        consoleSessions = ConsoleSessions(lifetime: configuration.consoleSessionLifetime)
        roster = ServerRoster(store: store, hub: hub, serverID: files.serverID, logger: logger)
    }

    /// Creates the first admin when there is no operator yet; returns its token (shown once).
    package func bootstrapAdmin() async throws -> String? {
        try await AccessDirectory(store: store).bootstrapAdmin()
    }

    var secrets: SecretVault {
        SecretVault(
            store: store, hub: hub, keyring: configuration.secretKeyring, revealAllowed: configuration.revealSecrets)
    }

    /// Checks that every stored secret was sealed with one of the server's keys, and seals again with
    /// the current key those sealed with a previous one; returns how many, and the ones it cannot open.
    package func prepareSecrets() async throws -> (resealed: Int, unreadable: [String]) {
        try await secrets.prepare()
    }

    let promotionAdvances = SerialGate()
    var promotions: PromotionEngine {
        PromotionEngine(store: store, hub: hub, signingKey: files.signingKey, advancing: promotionAdvances)
    }

    /// Every route of the API, each registered from its endpoint declaration by its area's controller.
    package func makeRouter() throws -> Router<ServerContext> {
        let router = Router(context: ServerContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: AuthenticationMiddleware(authenticator: Authenticator(store: store), refusals: refusals))
        let releases = ReleaseRegistry(store: store, hub: hub, files: files)
        let rollouts = Rollouts(store: store, hub: hub, signingKey: files.signingKey)
        let status = StatusReport(store: store, lostAfter: configuration.lostAfter)
        let directory = AccessDirectory(store: store)
        let policies = EnvironmentPolicies(store: store, hub: hub)
        SystemController(
            store: store, hub: hub, metrics: metrics, files: files, releases: releases,
            openAPI: try OpenAPIDocument.json()
        ).register(on: router)
        AgentController(
            enrollment: Enrollment(
                store: store, hub: hub, files: files, certificateLifetime: configuration.nodeCertificateLifetime,
                secrets: secrets, roster: roster),
            joins: joins
        ).register(on: router)
        ReleaseController(releases: releases).register(on: router)
        AccessController(directory: directory, store: store, hub: hub).register(on: router)
        RolloutController(rollouts: rollouts, status: status, store: store).register(on: router)
        PromotionController(promotions: promotions, store: store).register(on: router)
        PolicyController(policies: policies).register(on: router)
        OperationsController(store: store, hub: hub).register(on: router)
        SecretController(vault: secrets).register(on: router)
        // The console: the same engines as the API, for people.
        ConsoleController(
            store: store, sessions: consoleSessions, status: status, rollouts: rollouts, promotions: promotions,
            releases: releases, secrets: secrets, nodes: directory, policies: policies
        ).register(on: router)
        return router
    }

    /// Serves until the process is asked to stop (SIGTERM, SIGINT); `onRunning` gets the bound port.
    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let (certificate, key) = try files.serverCertificate(hosts: configuration.advertisedHosts)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
        tls.trustRoots = .certificates(
            try NIOSSLCertificate.fromPEMBytes(Array(try files.authority.certificatePEM.utf8)))
        // Joining agents have no certificate yet and operators use tokens: a certificate is checked
        // when presented, and the agent routes require one.
        tls.certificateVerification = .optionalVerification
        tls.minimumTLSVersion = .tlsv12

        // A connection with no request for longer than the longest long-poll is closed, so idle
        // keep-alive connections do not pile up; the agents open a new one when they need it.
        let connections = ConnectionGuard(limits: configuration.connectionLimits, logger: logger)
        let application = Application(
            router: try makeRouter(), server: connections.server(tls: tls, idleTimeout: .seconds(120)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "stellwerk",
                availableConnectionsDelegate: .maximum(ConnectionGuard.connectionCeiling(), logger: logger)),
            onServerRunning: { [roster, configuration] channel in
                let port = channel.localAddress?.port ?? 0
                roster.listening(
                    at: configuration.advertiseURL
                        ?? "https://\(configuration.advertisedHosts.first ?? configuration.host):\(port)")
                await onRunning(port)
            }, logger: logger)
        let rollouts = RolloutEngine(store: store, hub: hub)
        let promotions = promotions
        let tick = configuration.engineTick
        // Stopped in reverse order: the API first, then the engines finish their pass and let go of
        // their leases.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(
                        service: LeasedLoop(
                            name: RolloutEngine.leaseName, holder: files.serverID, store: store, logger: logger,
                            tick: tick, wake: hub.engines, pass: { try await rollouts.advanceAll() })),
                    // Promotions follow the rollouts they carry.
                    .init(
                        service: LeasedLoop(
                            name: PromotionEngine.leaseName, holder: files.serverID, store: store, logger: logger,
                            tick: tick, wake: hub.engines, pass: { try await promotions.advanceAll() })),
                    .init(
                        service: PushDriver(
                            store: store, hub: hub, files: files, secrets: secrets, key: configuration.sshKey,
                            holder: files.serverID, interval: configuration.pushInterval, logger: logger)),
                    .init(
                        service: DisconnectSweeper(
                            store: store, hub: hub, lostAfter: configuration.lostAfter, logger: logger)),
                    .init(service: refusals),
                    .init(service: roster),
                    .init(service: application),
                    // Stopped first, so no open event stream or long-poll holds the API's shutdown.
                    .init(service: EventStreamsEnd(hub: hub)),
                ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Ends every `/v1/events` stream and agent long-poll once the server is asked to stop: the API waits
/// for open requests to finish, a stream waits for the next event, which may never come, and a
/// long-poll up to a minute.
struct EventStreamsEnd: Service {
    let hub: EventHub

    func run() async throws {
        try? await gracefulShutdown()
        hub.close()
    }
}
