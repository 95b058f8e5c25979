import ArgumentParser
import FoundationEssentials
import Glibc
import Identity
import OrchestratorClient
import StellwerkAPI

/// `stellwerk-agent join`: enroll this node with its orchestrator, once.
struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Enroll this node with its orchestrator using a single-use join token.",
        discussion: """
            Fetches the orchestrator's CA and accepts it only if its SHA-256 is the fingerprint given \
            (an operator reads it from `stellwerk server` or `stellwerk token create`). Then it makes a \
            key pair, sends a certificate request with the join token, and keeps the key (mode 0600), \
            the certificate, the CA and the server's release-signing key in DATA/identity. The token \
            works once: a replayed, expired or unknown token is refused.

            Example:
              stellwerk-agent join https://stellwerk.example:8443 --token-file /root/join.token \\
                --ca-fingerprint 3f1c…e9 --data /var/lib/stellwerk
            """)

    @Argument(help: ArgumentHelp("The orchestrator's address.", valueName: "URL"))
    var url: String

    @Option(
        help: ArgumentHelp(
            "The join token (prefer --token-file: command lines are visible to others).", valueName: "TOKEN"))
    var token: String?

    @Option(help: ArgumentHelp("A file holding the join token; - reads standard input.", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("SHA-256 of the orchestrator's CA certificate.", valueName: "SHA256"))
    var caFingerprint: String

    @Option(help: ArgumentHelp("The agent's data folder.", valueName: "DIR"))
    var data: String

    func run() async throws {
        guard url.hasPrefix("https://") else { throw ValidationError("the orchestrator URL must start with https://") }
        let secret: String
        if let token {
            secret = token
        } else if tokenFile == "-" {
            // Standard input: `stellwerk node bootstrap` hands the token over its SSH channel, so it is
            // never on a command line or in a file.
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while bytes.count < 65_536 {
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                guard count > 0 else { break }
                bytes += buffer[0..<count]
            }
            secret = String(decoding: bytes, as: UTF8.self).trimmedOfWhitespace
        } else if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read the join token from \(tokenFile)")
            }
            secret = text.trimmedOfWhitespace
        } else {
            throw ValidationError("give the join token with --token-file FILE (or --token TOKEN)")
        }
        let identity = NodeIdentity(folder: URL(fileURLWithPath: data).appendingPathComponent("identity"))
        // The data folder holds the node's key, its desired state (with secrets) and data backups.
        try PrivateFiles.folder(URL(fileURLWithPath: data))
        if identity.exists {
            throw ValidationError(
                "\(data) already holds a node identity; remove \(identity.folder.path) to join again")
        }
        do {
            let authority = try await OrchestratorConnection.fetchAuthority(url: url, fingerprint: caFingerprint)
            let connection = try OrchestratorConnection(url: url, authority: authority)
            defer { Task { await connection.shutdown() } }
            let (key, request) = try NodeIdentity.makeRequest()
            let answer = try await connection.send(.join(JoinRequest(token: secret, certificateRequest: request)))
            try identity.store(key: key, certificate: answer.certificate)
            try PEMFiles.write(authority, to: identity.authorityFile)
            let settings = OrchestratorSettings(
                url: url, environment: answer.environment, site: answer.site, node: answer.node,
                signingKey: answer.signingKey, urls: answer.orchestrators)
            try PrivateFiles.write(WireJSON.encoder(pretty: true).encode(settings), to: identity.orchestratorFile)
            print("Joined as \(answer.node) (site \(answer.site), environment \(answer.environment)).")
            print("Start the agent with: stellwerk-agent run --data \(data)")
        } catch let error as ClientError {
            throw AgentExit(message: "joining failed: \(error.message)")
        } catch let error as IdentityError {
            throw AgentExit(message: "joining failed: \(error.description)")
        }
    }
}

/// Ends the agent with one readable line and exit status 1.
struct AgentExit: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
