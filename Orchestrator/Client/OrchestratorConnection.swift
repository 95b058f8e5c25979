import AsyncHTTPClient
import Crypto
package import Foundation
package import Identity
import NIOCore
import NIOHTTP1
import NIOSSL
import StellwerkAPI
import Synchronization

/// How the CLI and the agent reach the server: HTTPS that trusts only the orchestrator's CA, with
/// the node's client certificate (agents) or an API token (operators).
package final class OrchestratorConnection: Sendable {
    package let baseURL: String
    private let client: HTTPClient
    private let token: String?
    private let isOpen = Mutex(true)

    /// - Parameters:
    ///   - authority: the orchestrator's CA certificate, PEM.
    ///   - clientCertificate: the node's certificate and key (PEM), for agents.
    ///   - token: an operator's API token.
    package init(
        url: String, authority: String, clientCertificate: (certificate: String, key: String)? = nil,
        token: String? = nil, timeoutSeconds: Int64 = 90
    ) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.utf8)))
        tls.minimumTLSVersion = .tlsv12
        if let clientCertificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(clientCertificate.certificate.utf8)).map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(clientCertificate.key.utf8), format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(timeoutSeconds))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
    }

    /// Opens the agent's connection from its identity folder.
    package convenience init(identity: NodeIdentity, settings: OrchestratorSettings) throws {
        try self.init(
            url: settings.url, authority: try PEMFiles.read(identity.authorityFile, what: "orchestrator CA"),
            clientCertificate: (
                try PEMFiles.read(identity.certificateFile, what: "node certificate"),
                try PEMFiles.read(identity.keyFile, what: "node key")
            ))
    }

    package func shutdown() async {
        guard
            isOpen.withLock({ open in
                defer { open = false }; return open
            })
        else { return }
        try? await client.shutdown()
    }

    deinit {
        // A caller that left early (an error thrown past its shutdown) must not crash the process:
        // close the client in the background, keeping it alive until that is done.
        guard isOpen.withLock({ $0 }) else { return }
        let client = self.client
        client.shutdown { _ in _ = client }
    }

    static let encoder = WireJSON.encoder()
    static let decoder = WireJSON.decoder()

    // MARK: JSON calls

    /// Sends a request and returns status and body; a transport failure becomes a ``ClientError``.
    package func call(
        _ method: String, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
        timeoutSeconds: Int64 = 90
    ) async throws -> (status: Int, body: Data, headers: [(String, String)]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(timeoutSeconds))
            let collected = try await response.body.collect(upTo: 64 << 20)
            return (
                Int(response.status.code), Data(collected.readableBytesView),
                response.headers.map { ($0.name, $0.value) }
            )
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                status: nil, code: "unreachable", message: "cannot reach \(baseURL): \(Self.describe(error))")
        }
    }

    /// Calls a JSON endpoint and decodes the answer; an error answer becomes a ``ClientError`` with
    /// the server's message.
    package func json<Response: Decodable>(
        _ method: String, _ path: String, body: (some Encodable)? = nil as Data?, as type: Response.Type
    ) async throws -> Response {
        let data = try body.map { try Self.encoder.encode($0) }
        let answer = try await call(method, path, body: data)
        try Self.check(answer.status, answer.body)
        do {
            return try Self.decoder.decode(Response.self, from: answer.body)
        } catch {
            throw ClientError(
                status: answer.status, code: "bad-response",
                message: "the server answered \(path) with something unreadable")
        }
    }

    /// Calls an endpoint whose answer has no body worth reading.
    package func send(_ method: String, _ path: String, body: (some Encodable)? = nil as Data?) async throws {
        let answer = try await call(method, path, body: try body.map { try Self.encoder.encode($0) })
        try Self.check(answer.status, answer.body)
    }

    static func check(_ status: Int, _ body: Data) throws {
        guard status >= 400 else { return }
        if let error = try? decoder.decode(ErrorBody.self, from: body) {
            throw ClientError(status: status, code: error.error.code, message: error.error.message)
        }
        throw ClientError(status: status, code: "http-\(status)", message: "the server answered HTTP \(status)")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .deadlineExceeded, .readTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the connection was closed"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOSSLError { return "TLS failed (\(error)); is the CA the server's?" }
        return "\(error)"
    }

    // MARK: Artifacts

    /// Downloads an artifact into `file`, resuming a partial download in `file.partial` with a Range
    /// request, and checks its SHA-256 before it takes its name.
    package func download(sha256: String, to file: URL) async throws {
        let partial = URL(fileURLWithPath: file.path + ".partial")
        if !FileManager.default.fileExists(atPath: partial.path) {
            _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
        }
        let offset =
            ((try? FileManager.default.attributesOfItem(atPath: partial.path)[.size]) as? NSNumber)?.intValue ?? 0
        var request = HTTPClientRequest(url: baseURL + "/v1/artifacts/\(sha256)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let handle = try FileHandle(forWritingTo: partial)
        defer { try? handle.close() }
        do {
            let response = try await client.execute(request, timeout: .hours(2))
            switch response.status.code {
            case 200: try handle.truncate(atOffset: 0)
            case 206: try handle.seekToEnd()
            case 416:
                // The partial file is as long as the artifact or longer: start again.
                try handle.truncate(atOffset: 0)
                throw ClientError(
                    status: 416, code: "range", message: "the partial download was longer than the artifact; retrying")
            default:
                let body = try await response.body.collect(upTo: 1 << 20)
                try Self.check(Int(response.status.code), Data(body.readableBytesView))
                throw ClientError(status: Int(response.status.code), code: "http", message: "unexpected answer")
            }
            for try await buffer in response.body {
                try handle.write(contentsOf: Data(buffer.readableBytesView))
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                status: nil, code: "unreachable",
                message: "downloading artifact \(sha256.prefix(12)) failed: \(Self.describe(error))")
        }
        try handle.close()
        let digest = try Self.sha256(of: partial)
        guard digest == sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw ClientError(
                status: nil, code: "digest",
                message:
                    "the downloaded artifact has SHA-256 \(digest.prefix(16))…, not \(sha256.prefix(16))…; discarded")
        }
        _ = try? FileManager.default.removeItem(at: file)
        try FileManager.default.moveItem(at: partial, to: file)
    }

    /// Uploads a file as the artifact with its SHA-256 name; returns that name.
    package func upload(file: URL) async throws -> (sha256: String, size: Int) {
        let sha = try Self.sha256(of: file)
        let size = ((try FileManager.default.attributesOfItem(atPath: file.path)[.size]) as? NSNumber)?.intValue ?? 0
        var request = HTTPClientRequest(url: baseURL + "/v1/artifacts/\(sha)")
        request.method = .PUT
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        let data = try Data(contentsOf: file, options: .alwaysMapped)
        request.body = .bytes(ByteBuffer(bytes: data))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .hours(1))
        } catch {
            throw ClientError(
                status: nil, code: "unreachable",
                message: "uploading \(file.lastPathComponent) failed: \(Self.describe(error))")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        try Self.check(Int(response.status.code), Data(body.readableBytesView))
        return (sha, size)
    }

    static func sha256(of file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    // MARK: First contact

    /// Fetches the server's CA certificate without trusting anyone yet, and accepts it only when its
    /// SHA-256 is the fingerprint the operator gave: the pin replaces trust on first use.
    package static func fetchAuthority(url: String, fingerprint: String) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow))
        defer { _ = client.shutdown() }
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let text: String
        do {
            let response = try await client.execute(HTTPClientRequest(url: base + "/v1/ca"), timeout: .seconds(30))
            guard response.status == .ok else {
                throw ClientError(
                    status: Int(response.status.code), code: "ca", message: "\(base) did not hand out its CA")
            }
            text = String(buffer: try await response.body.collect(upTo: 1 << 16))
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(status: nil, code: "unreachable", message: "cannot reach \(base): \(describe(error))")
        }
        let certificates = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        guard let first = certificates.first else {
            throw ClientError(status: nil, code: "ca", message: "\(base) answered /v1/ca without a certificate")
        }
        let actual = CertificateFingerprint.of(der: try first.toDERBytes())
        guard actual == CertificateFingerprint.normalize(fingerprint) else {
            throw ClientError(
                status: nil, code: "ca-mismatch",
                message: "the server's CA has fingerprint \(actual), not the one given; refusing to trust it")
        }
        return text
    }
}

/// A failed call, with the server's own words when it answered.
package struct ClientError: Error, CustomStringConvertible, Sendable {
    package var status: Int?
    package var code: String
    package var message: String

    package init(status: Int?, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
