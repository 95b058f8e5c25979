import Authority
import Foundation
import HTTPTransport
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
        #expect(throws: HTTPExchange.Failure.self) { try HTTPExchange.Target(url: url) }
    }

    @Test(.timeLimit(.minutes(1))) func call_toAServerThatNeverAnswers_endsAtItsTimeout_withAClearMessage() async throws
    {
        let silent = try SilentListener()
        let connection = try OrchestratorConnection(
            url: "https://127.0.0.1:\(silent.port)", authority: try Self.someAuthority())
        let error = await #expect(throws: ClientError.self) {
            _ = try await connection.exchange(.get, "/v1/agent/desired-state", timeoutSeconds: 1)
        }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("no answer in time") == true, "\(String(describing: error))")
    }

    @Test func call_toAPortNobodyListensOn_saysItCannotReachTheServer() async throws {
        let port = try FreePort.find()
        let connection = try OrchestratorConnection(
            url: "https://127.0.0.1:\(port)", authority: try Self.someAuthority())
        let error = await #expect(throws: ClientError.self) { _ = try await connection.exchange(.get, "/health") }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("cannot reach https://127.0.0.1:\(port)/health") == true)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func calls_reuseTheirConnection_andGoAgainWhenTheServerHadClosedIt(serverCloses: Bool) async throws {
        let server = try PlainHTTPServer(closeAfterEachAnswer: serverCloses)
        defer { server.stop() }
        let connection = try OrchestratorConnection(
            url: "http://127.0.0.1:\(server.port)", authority: try Self.someAuthority())
        for _ in 0..<3 {
            let answer = try await connection.exchange(.get, "/health")
            #expect(answer.status == 200)
            #expect(String(decoding: answer.body, as: UTF8.self) == "ok")
        }
        // Kept open, one connection carries all three; closed by the server after each answer (as an
        // idle one may be), each call notices and goes again on a new one, unseen by the caller. (A
        // call that learns of the close only after sending on the closed one may take one more.)
        if serverCloses {
            #expect((3...4).contains(server.connections), "\(server.connections) connections")
        } else {
            #expect(server.connections == 1)
        }
        await connection.shutdown()
    }

    /// A new connection closed after the request went out, before any answer: a GET goes once more
    /// on another (it changes nothing when it runs twice); a POST does not, and says so.
    @Test(.timeLimit(.minutes(1))) func anUnansweredGET_goesOnceMore_aPOSTDoesNot() async throws {
        let server = try PlainHTTPServer(closeAfterEachAnswer: true, unanswered: 1)
        defer { server.stop() }
        let connection = try OrchestratorConnection(
            url: "http://127.0.0.1:\(server.port)", authority: try Self.someAuthority())
        let answer = try await connection.exchange(.get, "/health")
        #expect(answer.status == 200 && server.connections == 2)
        await connection.shutdown()

        let refusing = try PlainHTTPServer(closeAfterEachAnswer: true, unanswered: 1)
        defer { refusing.stop() }
        let poster = try OrchestratorConnection(
            url: "http://127.0.0.1:\(refusing.port)", authority: try Self.someAuthority())
        await #expect(throws: (any Error).self) {
            try await poster.exchange(.post, "/v1/things", body: Data("{}".utf8))
        }
        #expect(refusing.connections == 1)
        await poster.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func download_ofBytesWithAnotherDigest_isDiscarded() async throws {
        let server = try PlainHTTPServer(closeAfterEachAnswer: false)
        defer { server.stop() }
        let connection = try OrchestratorConnection(
            url: "http://127.0.0.1:\(server.port)", authority: try Self.someAuthority())
        let file = try Fixtures.temporaryFolder("download").appendingPathComponent("artifact.tar")
        let expected = String(repeating: "ab", count: 32)
        let error = await #expect(throws: ClientError.self) {
            try await connection.download(sha256: expected, to: file)
        }
        #expect(error?.code == .digest)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(!FileManager.default.fileExists(atPath: file.path + ".partial"))
        await connection.shutdown()
    }

    /// A CA certificate to trust; nothing in these tests gets as far as checking it.
    static func someAuthority() throws -> String {
        try CertificateAuthority.loadOrCreate(in: try Fixtures.temporaryFolder("connection")).certificatePEM
    }
}

/// An HTTP/1.1 server that answers every request "200 ok" without asking to close, and either keeps
/// the connection open or closes it right after the answer.
final class PlainHTTPServer: @unchecked Sendable {
    let port: Int
    private let socketHandle: Int32
    private let closeAfterEachAnswer: Bool
    /// Connections that are closed after the request arrived, without an answer: a server that
    /// restarts under its clients.
    private let unanswered: Int
    private let lock = NSLock()
    private var accepted = 0
    private var open: [Int32] = []

    init(closeAfterEachAnswer: Bool, unanswered: Int = 0) throws {
        self.closeAfterEachAnswer = closeAfterEachAnswer
        self.unanswered = unanswered
        let listener = try SilentListener()
        port = listener.port
        socketHandle = listener.takeSocket()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var connections: Int { lock.withLock { accepted } }

    func stop() {
        shutdown(socketHandle, Int32(SHUT_RDWR))
        close(socketHandle)
        // Under the lock: a connection's thread takes its descriptor out before closing it, so none
        // shut down here is a number the process already gave to another test's socket.
        lock.withLock {
            for client in open { shutdown(client, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(socketHandle, nil, nil)
            guard client >= 0 else { return }
            let number = lock.withLock {
                accepted += 1
                open.append(client)
                return accepted
            }
            Thread.detachNewThread { [self] in serve(client, answering: number > unanswered) }
        }
    }

    private func serve(_ client: Int32, answering: Bool) {
        defer {
            lock.withLock { open.removeAll { $0 == client } }
            close(client)
        }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            request += buffer[..<count]
            while let end = request.firstRange(of: Array("\r\n\r\n".utf8)) {
                request.removeSubrange(..<end.upperBound)
                guard answering else { return }
                let answer = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
                guard write(client, answer, answer.count) == answer.count else { return }
                if closeAfterEachAnswer { return }
            }
        }
    }
}

/// The event stream as it arrives: in pieces that may split a character, with CR LF or LF.
@Suite struct EventStreamBufferTests {
    @Test func blocksComeOutWhole_acrossPieces_withEitherLineEnd() {
        let buffer = EventStreamBuffer()
        let text = Array(
            ": stellwerk events\r\n\r\nid: 1\r\ndata: {\"detail\":\"Prüm\"}\r\n\r\nid: 2\ndata: {}\n\n".utf8)
        // Split inside the two bytes of "ü" and inside a CR LF pair.
        let umlaut = text.firstIndex(of: 0xC3)! + 1
        var blocks: [String] = []
        for piece in [text[..<umlaut], text[umlaut..<(umlaut + 20)], text[(umlaut + 20)...]] {
            blocks += buffer.append(piece)
        }
        #expect(blocks == [": stellwerk events", "id: 1\ndata: {\"detail\":\"Prüm\"}", "id: 2\ndata: {}"])
        #expect(buffer.append([]) == [])
    }
}
