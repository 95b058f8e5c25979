import Artifacts
package import Foundation
import Hummingbird
import HummingbirdTLS
import Identity
package import Logging
import NIOCore
import NIOSSL
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
    package var rolloutTick: Duration

    package init(
        host: String, port: Int, advertisedHosts: [String], lostAfter: TimeInterval = 120,
        rolloutTick: Duration = .milliseconds(500)
    ) {
        self.host = host
        self.port = port
        self.advertisedHosts = advertisedHosts
        self.lostAfter = lostAfter
        self.rolloutTick = rolloutTick
    }
}

/// The control plane: agent enrollment and the agent API over mutual TLS, the operator API over
/// bearer tokens, artifacts with Range requests, an event stream, metrics, and the rollout engine.
package struct OrchestratorServer: Sendable {
    package let configuration: ServerConfiguration
    package let files: ServerFiles
    package let store: StateStore
    package let logger: Logger
    let hub = EventHub()
    let metrics = ServerMetrics()

    package init(configuration: ServerConfiguration, files: ServerFiles, store: StateStore, logger: Logger) {
        self.configuration = configuration
        self.files = files
        self.store = store
        self.logger = logger
    }

    /// Creates the first admin when there is no operator yet; returns its token (shown once).
    package func bootstrapAdmin() async throws -> String? {
        guard try await store.operators().isEmpty else { return nil }
        let token = Tokens.make(prefix: "swo")
        try await store.createOperator(
            OperatorRecord(
                name: "admin", tokenHash: Tokens.hash(token), roles: ["*": Role.admin.rawValue], createdBy: "server",
                createdAt: Date()))
        return token
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

        let router = Router(context: ServerContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware(logger: logger))
        let authenticator = Authenticator(store: store)
        let engine = RolloutEngine(
            store: store, hub: hub, holder: files.serverID, logger: logger, tick: configuration.rolloutTick,
            promotions: PromotionEngine(store: store, hub: hub, signingKey: files.signingKey))
        let routes = Routes(
            server: self, authenticator: authenticator, hub: hub, metrics: metrics)
        routes.register(on: router)

        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "stellwerk"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
        let engineTask = Task { await engine.run() }
        let sweeper = Task { await sweepDisconnected() }
        defer {
            engineTask.cancel()
            sweeper.cancel()
        }
        try await app.runService()
        engineTask.cancel()
        _ = await engineTask.value
    }

    /// Marks nodes that went silent as disconnected and says so on the event stream.
    private func sweepDisconnected() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            guard let environments = try? await Set(store.nodes().map(\.environment)) else { continue }
            for environment in environments {
                let lost =
                    (try? await store.markDisconnected(
                        environment: environment, notSeenSince: Date().addingTimeInterval(-configuration.lostAfter)))
                    ?? []
                for node in lost {
                    hub.publish(
                        "node.disconnected", environment: environment, object: node,
                        detail: "not seen for \(Int(configuration.lostAfter)) s")
                }
            }
        }
    }
}
