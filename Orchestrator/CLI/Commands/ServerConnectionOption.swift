import ArgumentParser
import Foundation
import OrchestratorClient

/// `--server`, `--token`, `--ca`: how an operator reaches the orchestrator.
struct ServerConnectionOption: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: ArgumentHelp("The orchestrator's address (default: $STELLWERK_SERVER).", valueName: "URL"))
    var serverURL: String?

    @Option(
        name: .customLong("token"),
        help: ArgumentHelp("An API token (default: $STELLWERK_TOKEN; prefer the variable).", valueName: "TOKEN"))
    var apiToken: String?

    @Option(
        name: .customLong("ca"),
        help: ArgumentHelp("The orchestrator's CA certificate, PEM (default: $STELLWERK_CA).", valueName: "FILE"))
    var authorityFile: String?

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The orchestrator's address and CA file, as given (by flag or environment).
    var givenURL: String? { serverURL ?? Self.environment("STELLWERK_SERVER") }
    var givenAuthorityFile: String? { authorityFile ?? Self.environment("STELLWERK_CA") }

    /// Whether an orchestrator is named at all (by flag or environment).
    var isConfigured: Bool { (serverURL ?? Self.environment("STELLWERK_SERVER")) != nil }

    /// A connection, or one line saying which setting is missing.
    func connect() throws -> OrchestratorConnection {
        guard let url = serverURL ?? Self.environment("STELLWERK_SERVER") else {
            throw CLIError("no orchestrator given: pass --server URL or set STELLWERK_SERVER")
        }
        guard let token = apiToken ?? Self.environment("STELLWERK_TOKEN") else {
            throw CLIError("no API token given: set STELLWERK_TOKEN (or pass --token)")
        }
        guard let caPath = authorityFile ?? Self.environment("STELLWERK_CA") else {
            throw CLIError("no CA certificate given: set STELLWERK_CA to the server's ca.pem (or pass --ca FILE)")
        }
        guard let authority = try? String(contentsOfFile: caPath, encoding: .utf8) else {
            throw CLIError("cannot read the CA certificate \(caPath)")
        }
        do {
            return try OrchestratorConnection(url: url, authority: authority, token: token)
        } catch {
            throw CLIError("\(caPath) is not a PEM certificate: \(error)")
        }
    }

    /// Runs `body` with a connection and turns server errors into one readable line.
    func with<T>(_ body: (OrchestratorConnection) async throws -> T) async throws -> T {
        let connection = try connect()
        do {
            let result = try await body(connection)
            await connection.shutdown()
            return result
        } catch let error as ClientError {
            await connection.shutdown()
            throw CLIError(error.message)
        } catch {
            await connection.shutdown()
            throw error
        }
    }
}
