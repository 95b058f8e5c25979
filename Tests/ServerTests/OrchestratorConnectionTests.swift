import Foundation
import Identity
import TestSupport
import Testing

@testable import OrchestratorClient

/// The client the agent and the CLI reach the orchestrator with: addresses it accepts, and what it
/// says when the orchestrator is not there or does not answer.
@Suite struct OrchestratorConnectionTests {
    @Test func target_readsHostPortAndPath_fromTheURLsOperatorsWrite() throws {
        let ip = try HTTPExchange.Target(url: "https://127.0.0.1:8443/v1/agent/desired-state?known=3&wait=25")
        #expect(
            [ip.secure ? "https" : "http", ip.host, String(ip.port), ip.path] == [
                "https", "127.0.0.1", "8443", "/v1/agent/desired-state?known=3&wait=25",
            ])
        // An address is checked against the certificate's IP entries and never sent as SNI.
        #expect(ip.serverName == nil)
        #expect(ip.hostHeader == "127.0.0.1:8443")

        let name = try HTTPExchange.Target(url: "https://stellwerk.kreis-kusel.de")
        #expect(
            [name.secure ? "https" : "http", name.host, String(name.port), name.path] == [
                "https", "stellwerk.kreis-kusel.de", "443", "/",
            ])
        #expect(name.serverName == "stellwerk.kreis-kusel.de")
        #expect(name.hostHeader == "stellwerk.kreis-kusel.de")

        let six = try HTTPExchange.Target(url: "https://[::1]:9443?x=1")
        #expect(
            [six.secure ? "https" : "http", six.host, String(six.port), six.path] == ["https", "::1", "9443", "/?x=1"])
        #expect(six.serverName == nil)
        #expect(six.hostHeader == "[::1]:9443")

        #expect(try HTTPExchange.Target(url: "http://127.0.90.1:8101/health").secure == false)
    }

    @Test(arguments: [
        "ftp://host/x", "127.0.0.1:8443", "https://:8443/", "https://host:port/", "https://host:70000/", "",
    ])
    func target_refusesWhatIsNoHTTPURL(_ url: String) {
        #expect(throws: ClientError.self) { try HTTPExchange.Target(url: url) }
    }

    @Test(.timeLimit(.minutes(1))) func call_toAServerThatNeverAnswers_endsAtItsTimeout_withAClearMessage() async throws
    {
        let silent = try SilentListener()
        let connection = try OrchestratorConnection(
            url: "https://127.0.0.1:\(silent.port)", authority: try Self.someAuthority())
        let error = await #expect(throws: ClientError.self) {
            _ = try await connection.call("GET", "/v1/agent/desired-state", timeoutSeconds: 1)
        }
        #expect(error?.code == "unreachable")
        #expect(error?.message.contains("no answer in time") == true, "\(String(describing: error))")
    }

    @Test func call_toAPortNobodyListensOn_saysItCannotReachTheServer() async throws {
        let port = try FreePort.find()
        let connection = try OrchestratorConnection(
            url: "https://127.0.0.1:\(port)", authority: try Self.someAuthority())
        let error = await #expect(throws: ClientError.self) { _ = try await connection.call("GET", "/health") }
        #expect(error?.code == "unreachable")
        #expect(error?.message.contains("cannot reach https://127.0.0.1:\(port)/health") == true)
    }

    /// A CA certificate to trust; nothing in these tests gets as far as checking it.
    static func someAuthority() throws -> String {
        try CertificateAuthority.loadOrCreate(in: try Fixtures.temporaryFolder("connection")).certificatePEM
    }
}
