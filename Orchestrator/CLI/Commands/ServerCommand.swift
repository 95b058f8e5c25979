import ArgumentParser
import Artifacts
import Authority
import Foundation
import Identity
import Logging
import Server
import Store

/// `stellwerk server`: run the orchestrator.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the orchestrator: agent enrollment, the agent and operator API, and rollouts.",
        discussion: """
            On first start the server creates its CA, its release-signing key and a first admin API \
            token. The token is written to --admin-token-file (mode 0600) when given, else printed when \
            standard output is a terminal, else written to DATA/admin.token (mode 0600) — never into a \
            log. Agents join with `stellwerk-agent join URL --token-file FILE \
            --ca-fingerprint SHA256`; the fingerprint is printed at every start.

            The state lives in --store (default: sqlite:DATA/state.sqlite). The engines hold a lease \
            in the store, so a second server started on the same store by mistake waits instead of \
            driving rollouts twice; servers that share one PostgreSQL store need the same data \
            folder too (the CA and signing key live there; a real HA setup is issue #23). SIGTERM \
            or SIGINT stop it gracefully; a rollout in progress resumes at the next start.

            Examples:
              stellwerk server --data /var/lib/stellwerk-server \\
                --listen 0.0.0.0:8443 --host stellwerk.example
              stellwerk server --data ./.stellwerk/server --listen 127.0.0.1:8443
            """)

    @Option(help: ArgumentHelp("The server's data folder (CA, keys, artifacts).", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("Address and port to listen on (port 0 picks a free one).", valueName: "HOST:PORT"))
    var listen = "127.0.0.1:8443"

    @Option(
        name: .customLong("host"),
        help: ArgumentHelp("A name or address agents reach the server by; repeat for several.", valueName: "NAME"))
    var hosts: [String] = []

    @Option(
        help: ArgumentHelp(
            "The address agents reach this server by, given to every agent of a shared store so it can go on here when its own server goes away (default: https://FIRST-HOST:PORT).",
            valueName: "URL"))
    var advertiseURL: String?

    @Option(help: ArgumentHelp("The state store (default: sqlite:DATA/state.sqlite).", valueName: "URL"))
    var store: String?

    @Option(
        help: ArgumentHelp(
            "Write the first admin token to this file (mode 0600) instead of showing it.", valueName: "FILE"))
    var adminTokenFile: String?

    @Option(help: ArgumentHelp("Write the bound port to this file once the server listens.", valueName: "FILE"))
    var portFile: String?

    @Option(
        help: ArgumentHelp(
            "Seconds of silence after which a node counts as disconnected (5–86400).", valueName: "SECONDS"))
    var lostAfter = 120

    @Option(
        help: ArgumentHelp(
            "How long a sign-in to the web console (/console) lasts (1m to 7d; default 8h).", valueName: "DURATION"))
    var consoleSession = "8h"

    @Option(
        help: ArgumentHelp(
            "Connections one client address may hold at once (1–100000); more are closed at once.",
            valueName: "COUNT"))
    var maxConnectionsPerClient = 256

    @Option(
        help: ArgumentHelp(
            "Seconds a connection may take to finish its TLS handshake before it is closed (1–300).",
            valueName: "SECONDS"))
    var handshakeTimeout = 10

    @Option(
        help: ArgumentHelp(
            "How long node certificates last (1m to 365d); agents renew them after two thirds.", valueName: "SPAN"))
    var nodeCertificateLifetime = "30d"

    @Option(
        help: ArgumentHelp(
            "Refused joins one client address may have a minute (1–10000; three times as many at once).",
            valueName: "COUNT"))
    var refusedJoinsPerMinute = 10

    @Option(
        help: ArgumentHelp(
            "The key-encryption key secrets are sealed with in the store: base64 of 32 bytes, mode 0600, kept apart from the store (default: DATA/secrets.key, made on first start).",
            valueName: "FILE"))
    var secretsKey: String?

    @Option(
        help: ArgumentHelp(
            "A key-encryption key being replaced: secrets sealed with it are sealed again with --secrets-key at start (repeatable).",
            valueName: "FILE"))
    var previousSecretsKey: [String] = []

    @Flag(help: "Let approvers read secret values back (`stellwerk secret show`); for a local platform only.")
    var revealSecrets = false

    @Option(
        help: ArgumentHelp(
            "The orchestrator's SSH key (Ed25519, OpenSSH format, mode 0600) for nodes with `transport: ssh`; its public half goes in their authorized_keys.",
            valueName: "FILE"))
    var sshKey: String?

    @Option(
        help: ArgumentHelp(
            "Seconds between pushes to a settled push node (1–3600); a new state is pushed at once.",
            valueName: "SECONDS"))
    var pushInterval = 15

    func validate() throws {
        guard (1...10_000).contains(refusedJoinsPerMinute) else {
            throw ValidationError("--refused-joins-per-minute \(refusedJoinsPerMinute): give a number from 1 to 10000")
        }
        guard let lifetime = DurationText.seconds(nodeCertificateLifetime), (60...365 * 86_400).contains(lifetime)
        else {
            throw ValidationError(
                "--node-certificate-lifetime \(nodeCertificateLifetime): give a span from 1m to 365d, such as 30d")
        }
        guard (5...86400).contains(lostAfter) else {
            throw ValidationError("--lost-after \(lostAfter): give a number of seconds from 5 to 86400")
        }
        guard (1...100_000).contains(maxConnectionsPerClient) else {
            throw ValidationError(
                "--max-connections-per-client \(maxConnectionsPerClient): give a number from 1 to 100000")
        }
        guard (1...300).contains(handshakeTimeout) else {
            throw ValidationError("--handshake-timeout \(handshakeTimeout): give a number of seconds from 1 to 300")
        }
        if let advertiseURL {
            guard advertiseURL.hasPrefix("https://"), advertiseURL.count > 8, advertiseURL.count <= 2048,
                !advertiseURL.contains(where: { $0.isWhitespace || $0 == "," })
            else {
                throw ValidationError(
                    "--advertise-url \(advertiseURL.prefix(80)): give the https:// address agents reach this server by")
            }
        }
        guard (1...3600).contains(pushInterval) else {
            throw ValidationError("--push-interval \(pushInterval): give a number of seconds from 1 to 3600")
        }
    }

    func run() async throws {
        let trimming = MallocArenas.limit()
        defer { trimming.cancel() }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw CLIError("--listen \(listen): give HOST:PORT, such as 127.0.0.1:8443") }
        let host = String(listen[..<colon])
        let folder = URL(fileURLWithPath: data)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder.path)
        } catch {
            throw CLIError("\(data): cannot prepare the server's data folder: \(error.localizedDescription)")
        }
        let location: StoreLocation
        do {
            location = try StoreLocation(
                parsing: store ?? ProcessInfo.processInfo.environment["STELLWERK_STORE"]
                    ?? "sqlite:\(folder.appendingPathComponent("state.sqlite").path)")
        } catch {
            throw CLIError(error.message)
        }
        let stateStore: StateStore
        do {
            stateStore = try await StateStore.open(location, create: true)
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
        defer { stateStore.close() }
        var logger = Logger(label: "stellwerk.server")
        logger.logLevel = .info
        var advertised = hosts
        if advertised.isEmpty { advertised = host == "0.0.0.0" || host == "::" ? ["localhost", "127.0.0.1"] : [host] }
        var configuration = ServerConfiguration(
            host: host, port: port, advertisedHosts: advertised, lostAfter: TimeInterval(lostAfter))
        configuration.nodeCertificateLifetime = TimeInterval(DurationText.seconds(nodeCertificateLifetime) ?? 0)
        configuration.refusedJoinsPerMinute = refusedJoinsPerMinute
        configuration.connectionLimits = ConnectionGuard.Limits(
            perClient: maxConnectionsPerClient, handshakeTimeout: .seconds(handshakeTimeout))
        do {
            configuration.secretKeyring = SecretKeyring(
                current: try SecretKeyring.load(
                    URL(fileURLWithPath: secretsKey ?? folder.appendingPathComponent("secrets.key").path),
                    creating: secretsKey == nil),
                previous: try previousSecretsKey.map { try SecretKeyring.load(URL(fileURLWithPath: $0)) })
        } catch let error as IdentityError {
            throw CLIError(error.description)
        }
        // The orchestrator's CA and signing key: the store's, shared by every server on it.
        let files: ServerFiles
        do {
            files = try await ServerFiles.shared(
                folder: folder, store: stateStore, keyring: configuration.secretKeyring)
        } catch let error as IdentityError {
            throw CLIError("\(data): \(error.description)")
        } catch {
            throw CLIError("\(data): cannot prepare the server's data folder: \(error)")
        }
        configuration.revealSecrets = revealSecrets
        guard let session = DurationText.seconds(consoleSession), (60...7 * 86_400).contains(session) else {
            throw CLIError("--console-session \(consoleSession): give a duration from 1m to 7d (as 8h)")
        }
        configuration.consoleSessionLifetime = TimeInterval(session)
        if let sshKey {
            // A private key others may read is one others may have: refused, as ssh itself does.
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: sshKey),
                let mode = attributes[.posixPermissions] as? Int
            else { throw CLIError("--ssh-key \(sshKey): no such file") }
            guard mode & 0o077 == 0 else {
                throw CLIError(
                    "--ssh-key \(sshKey): others may read it (mode \(String(mode, radix: 8))); chmod 600 \(sshKey)")
            }
            configuration.sshKey = URL(fileURLWithPath: sshKey)
        }
        configuration.pushInterval = .seconds(pushInterval)
        configuration.advertiseURL = advertiseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let server = OrchestratorServer(configuration: configuration, files: files, store: stateStore, logger: logger)
        do {
            let (resealed, unreadable) = try await server.prepareSecrets()
            if resealed > 0 {
                FileHandle.standardOutput.write(
                    Data("Sealed \(resealed) secrets again with the current key-encryption key.\n".utf8))
            }
            for problem in unreadable { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
        } catch let error as IdentityError {
            throw CLIError(error.description)
        }
        if let token = try await server.bootstrapAdmin() {
            // Standard output often ends up in a log file; a token goes only to a person's terminal
            // or a file that only this user may read.
            let file = adminTokenFile.map(URL.init(fileURLWithPath:))
            if file == nil, isatty(STDOUT_FILENO) == 1 {
                FileHandle.standardOutput.write(
                    Data("First start: created the admin operator. Its API token (shown only now):\n  \(token)\n".utf8))
            } else {
                let target = file ?? URL(fileURLWithPath: data).appendingPathComponent("admin.token")
                try PEMFiles.writeSecret(token + "\n", to: target)
                FileHandle.standardOutput.write(
                    Data(
                        "First start: created the admin operator. Its API token is in \(target.path) (mode 0600); keep it somewhere safe and remove the file.\n"
                            .utf8))
            }
        }
        let fingerprint = try files.authority.fingerprint
        let keyFingerprint = ReleaseSigner.fingerprint(of: Data(base64Encoded: try files.signingPublicKey) ?? Data())
        let portFile = portFile
        let shownHost = advertised.first ?? host
        try await server.run { bound in
            // Written straight to the descriptor: a supervising script reads these lines while the
            // server runs, so they must not wait in a buffer.
            FileHandle.standardOutput.write(
                Data(
                    """
                    Stellwerk server listening on https://\(shownHost):\(bound)
                    CA fingerprint (for stellwerk-agent join --ca-fingerprint): \(fingerprint)
                    CA certificate for operators (STELLWERK_CA): \(files.authorityFile.path)
                    Release signing key (for stellwerk release import --trust-key): \(keyFingerprint)

                    """.utf8))
            if let portFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic) }
        }
    }
}
