import Artifacts
package import FoundationEssentials
import Glibc
package import HTTPTransport
package import Identity
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
package import StellwerkAPI
import Synchronization

/// Server-sent events as they arrive in pieces: whole blocks (ending in a blank line) come out, as
/// text. Bytes are kept until a block is whole, so a character split between pieces stays whole, and
/// CR LF line ends read as LF.
package final class EventStreamBuffer: Sendable {
    struct Done: Error {}

    package init() {}
    private let pending = Mutex<[UInt8]>([])

    package func append(_ bytes: some Sequence<UInt8>) -> [String] {
        pending.withLock { pending in
            pending.append(contentsOf: bytes.lazy.filter { $0 != 13 })
            var blocks: [String] = []
            var start = 0
            var index = 0
            while index + 1 < pending.count {
                if pending[index] == 10, pending[index + 1] == 10 {
                    blocks.append(String(decoding: pending[start..<index], as: UTF8.self))
                    start = index + 2
                    index = start
                } else {
                    index += 1
                }
            }
            pending.removeFirst(start)
            // A stream that never ends a block is not kept in memory without bound.
            if pending.count > 1 << 20 { pending.removeAll() }
            return blocks
        }
    }
}

/// How the CLI and the agent reach the server: HTTPS that trusts only the orchestrator's CA, with
/// the node's client certificate (agents) or an API token (operators).
package final class OrchestratorConnection: Sendable {
    package let baseURL: String
    private let http: HTTPExchange
    private let token: String?
    private let timeout: Duration

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
        http = HTTPExchange(tls: try NIOSSLContext(configuration: tls))
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
        timeout = .seconds(timeoutSeconds)
    }

    /// Opens the agent's connection to the server at `url` from its identity folder.
    package convenience init(identity: NodeIdentity, url: String) throws {
        try self.init(
            url: url, authority: try PEMFiles.read(identity.authorityFile, what: "orchestrator CA"),
            clientCertificate: (
                try PEMFiles.read(identity.certificateFile, what: "node certificate"),
                try PEMFiles.read(identity.keyFile, what: "node key")
            ))
    }

    /// For a process whose only network traffic is this client (the agent): one event-loop thread
    /// instead of one per core, so its memory is the same on a 2-core and a 32-core server. Call it
    /// once, before the first request.
    package static func useOneNetworkThread() {
        NIOSingletons.groupLoopCountSuggestion = 1
    }

    /// Closes the connections kept open for the next call.
    package func shutdown() async {
        http.closeIdleConnections()
    }

    static let encoder = WireJSON.encoder()
    static let decoder = WireJSON.decoder()

    // MARK: Calls

    /// Calls an endpoint and reads its answer: `send(.rollout(id))`. An error answer becomes a
    /// ``ClientError`` with the server's code and message; `nil` answers 204 for an optional answer.
    package func send<Body, Answer>(
        _ call: APICall<Body, Answer>, timeoutSeconds: Int64? = nil
    ) async throws
        -> Answer
    {
        let data = try call.body.flatMap { body in
            Body.self == NoBody.self || Body.self == RawBytes.self ? nil : try Self.encoder.encode(body)
        }
        let answer = try await exchange(
            call.endpoint.method, call.target, body: data, contentType: "application/json",
            timeoutSeconds: timeoutSeconds)
        try Self.check(answer.status, answer.body)
        if let empty = Answer.self as? any EmptyAnswer.Type, answer.status == 204 || Answer.self == NoContent.self {
            if let value = empty.emptyAnswer as? Answer { return value }
        }
        do {
            return try Self.decoder.decode(Answer.self, from: answer.body)
        } catch let error as DecodingError {
            throw ClientError(
                status: answer.status, code: .badResponse,
                message:
                    "the server answered \(call.path) with something this stellwerk cannot read: \(Self.describe(error))"
            )
        }
    }

    /// Sends a request as given, for callers that must send what no endpoint builder makes (tests of
    /// bad input); a transport failure becomes a ``ClientError``.
    package func exchange(
        _ method: HTTPVerb, _ target: String, body: Data? = nil, contentType: String = "application/json",
        headers: [(String, String)] = [], timeoutSeconds: Int64? = nil
    ) async throws -> HTTPAnswer {
        do {
            return try await http.collect(
                method: HTTPMethod(rawValue: method.rawValue), url: baseURL + target,
                headers: authorized(headers + (body != nil ? [("Content-Type", contentType)] : [])),
                body: body.map { ByteBuffer(bytes: $0) }, timeout: timeoutSeconds.map { .seconds($0) } ?? timeout,
                limit: 64 << 20)
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                status: nil, code: .unreachable, message: "cannot reach \(baseURL + target): \(Self.describe(error))")
        }
    }

    /// Reads `/v1/events` (of `environment`) as they happen: `subscribed` once the server listens for
    /// this client (nothing after that is missed), then `receive` with each event, until the stream
    /// ends, fails, or `receive` returns false.
    package func followEvents(
        environment: String?, subscribed: @escaping @Sendable () -> Void,
        receive: @escaping @Sendable (ServerEvent) -> Bool
    ) async throws {
        let buffer = EventStreamBuffer()
        do {
            try await http.run(
                method: .GET,
                url: baseURL + Endpoints.events.call(query: environment.map { [("env", $0)] } ?? []).target,
                headers: authorized([("Accept", "text/event-stream")]), body: nil, timeout: .seconds(86_400),
                onHead: { head in
                    guard head.status.code == 200 else {
                        throw ClientError(
                            status: Int(head.status.code), code: .http(Int(head.status.code)),
                            message: "the event stream answered HTTP \(head.status.code)")
                    }
                },
                onBody: { bytes in
                    for block in buffer.append(bytes.readableBytesView) {
                        if block.hasPrefix(": ") {
                            subscribed()
                            continue
                        }
                        guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                            let event = try? Self.decoder.decode(
                                ServerEvent.self, from: Data(line.dropFirst("data: ".count).utf8))
                        else { continue }
                        if !receive(event) { throw EventStreamBuffer.Done() }
                    }
                })
        } catch is EventStreamBuffer.Done {
            return
        }
    }

    /// `headers` with the operator's token, when this connection has one.
    private func authorized(_ headers: [(String, String)]) -> [(String, String)] {
        token.map { headers + [("Authorization", "Bearer \($0)")] } ?? headers
    }

    static func check(_ status: Int, _ body: Data) throws {
        guard status >= 400 else { return }
        if let error = try? decoder.decode(ErrorBody.self, from: body) {
            throw ClientError(status: status, code: .server(error.error.code), message: error.error.message)
        }
        throw ClientError(status: status, code: .http(status), message: "the server answered HTTP \(status)")
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
            .valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return (path.isEmpty ? "" : "\(path): ") + context.debugDescription
        @unknown default: return "\(error)"
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPExchange.Failure {
            switch error {
            case .notAnswered(let cause), .notSent(let cause): return describe(cause)
            default: break
            }
            return error.description
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connection timed out" }
        if let error = error as? NIOConnectionError {
            return error.connectionErrors.first.map { "\($0.error)" } ?? "cannot connect"
        }
        if let error = error as? NIOSSLError { return "TLS failed (\(error)); is the CA the server's?" }
        return "\(error)"
    }

    // MARK: Artifacts

    /// Downloads an artifact into `file`, resuming a partial download in `file.partial` with a Range
    /// request, and checks its SHA-256 before it takes its name.
    /// A partial download cut short by a full disk is removed: kept for resuming, it would hold the
    /// disk full for everything else on the node.
    private static func discardIfDiskFull(_ output: PartialFile, _ partial: String) {
        guard output.diskFull else { return }
        output.finish()
        unlink(partial)
    }

    package func download(sha256: String, to file: URL) async throws {
        let partial = file.path + ".partial"
        let output = try PartialFile(path: partial)
        defer { output.finish() }
        let offset = try output.size()
        let headers = authorized(offset > 0 ? [("Range", "bytes=\(offset)-")] : [])
        let refusal = HTTPAnswer(limit: 1 << 20)
        do {
            try await http.run(
                method: .GET, url: baseURL + Endpoints.artifact.path(["sha256": sha256]), headers: headers, body: nil,
                timeout: .seconds(7200),
                onHead: { head in
                    refusal.head = head
                    switch head.status.code {
                    case 200: try output.truncate()
                    case 206: break
                    case 416:
                        // The partial file is as long as the artifact or longer: start again.
                        try output.truncate()
                        throw ClientError(
                            status: 416, code: .range,
                            message: "the partial download was longer than the artifact; retrying")
                    default: output.refused = true
                    }
                },
                onBody: { bytes in
                    if output.refused { try refusal.append(bytes) } else { try output.append(bytes) }
                })
        } catch let error as ClientError {
            Self.discardIfDiskFull(output, partial)
            throw error
        } catch {
            Self.discardIfDiskFull(output, partial)
            throw ClientError(
                status: nil, code: .unreachable,
                message: "downloading artifact \(sha256.prefix(12)) failed: \(Self.describe(error))")
        }
        if output.refused {
            let status = Int(refusal.head?.status.code ?? 0)
            try Self.check(status, refusal.body)
            throw ClientError(status: status, code: .http(status), message: "unexpected answer HTTP \(status)")
        }
        output.finish()
        let digest = try FileDigest.sha256(ofFile: partial)
        guard digest == sha256 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw ClientError(
                status: nil, code: .digest,
                message:
                    "the downloaded artifact has SHA-256 \(digest.prefix(16))…, not \(sha256.prefix(16))…; discarded")
        }
        _ = try? FileManager.default.removeItem(at: file)
        try FileManager.default.moveItem(atPath: partial, toPath: file.path)
    }

    /// Uploads a file as the artifact with its SHA-256 name; returns that name.
    package func upload(file: URL) async throws -> (sha256: String, size: Int) {
        let sha = try FileDigest.sha256(ofFile: file.path)
        let data = try Data(contentsOf: file, options: .alwaysMapped)
        let answer: HTTPAnswer
        do {
            answer = try await http.collect(
                method: .PUT, url: baseURL + Endpoints.uploadArtifact.path(["sha256": sha]),
                headers: authorized([("Content-Type", "application/octet-stream")]), body: ByteBuffer(bytes: data),
                timeout: .seconds(3600), limit: 1 << 20)
        } catch {
            throw ClientError(
                status: nil, code: .unreachable,
                message: "uploading \(file.lastPathComponent) failed: \(Self.describe(error))")
        }
        try Self.check(Int(answer.head?.status.code ?? 0), answer.body)
        return (sha, data.count)
    }

    // MARK: First contact

    /// Fetches the server's CA certificate without trusting anyone yet, and accepts it only when its
    /// SHA-256 is the fingerprint the operator gave: the pin replaces trust on first use.
    package static func fetchAuthority(url: String, fingerprint: String) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let exchange = HTTPExchange(tls: try NIOSSLContext(configuration: tls))
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let answer: HTTPAnswer
        do {
            answer = try await exchange.collect(
                method: .GET, url: base + Endpoints.authority.path, headers: [], body: nil, timeout: .seconds(30),
                limit: 1 << 16)
        } catch {
            throw ClientError(status: nil, code: .unreachable, message: "cannot reach \(base): \(describe(error))")
        }
        guard answer.head?.status == .ok else {
            throw ClientError(
                status: answer.head.map { Int($0.status.code) }, code: .authority,
                message: "\(base) did not hand out its CA")
        }
        let text = String(decoding: answer.body, as: UTF8.self)
        let certificates = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        guard let first = certificates.first else {
            throw ClientError(status: nil, code: .authority, message: "\(base) answered without a CA certificate")
        }
        let actual = CertificateFingerprint.of(der: try first.toDERBytes())
        guard actual == CertificateFingerprint.normalize(fingerprint) else {
            throw ClientError(
                status: nil, code: .authorityMismatch,
                message: "the server's CA has fingerprint \(actual), not the one given; refusing to trust it")
        }
        return text
    }
}

/// The `.partial` file a download goes into, written with plain POSIX calls.
private final class PartialFile: @unchecked Sendable {
    // Used by the one download that owns it, one part after the other.
    private var descriptor: Int32
    private let path: String
    /// The server refused: what follows is its error, not the artifact.
    var refused = false
    /// A write failed because the disk is full: the partial file is not worth keeping.
    var diskFull = false

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("open", path) }
    }

    func size() throws -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Self.failure("inspect", path) }
        return Int(status.st_size)
    }

    func truncate() throws {
        guard ftruncate(descriptor, 0) == 0 else { throw Self.failure("truncate", path) }
    }

    func append(_ bytes: ByteBuffer) throws {
        try bytes.withUnsafeReadableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == ENOSPC || errno == EDQUOT { diskFull = true }
                    throw Self.failure("write", path)
                }
                offset += written
            }
        }
    }

    func finish() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { finish() }

    private static func failure(_ what: String, _ path: String) -> ClientError {
        ClientError(
            status: nil, code: .file, message: "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }
}

/// A failed call, with the server's own words when it answered.
package struct ClientError: Error, CustomStringConvertible, Sendable {
    /// Why the call failed.
    package enum Code: Sendable, Hashable {
        /// The server refused or failed, and said why.
        case server(ErrorCode)
        /// The server answered an error status without an error body.
        case http(Int)
        /// The server could not be reached, or did not answer in time.
        case unreachable
        /// The answer is not what the endpoint answers.
        case badResponse
        /// A downloaded artifact does not have the digest it was asked by.
        case digest
        /// A partial download was longer than the artifact.
        case range
        /// The server did not hand out its CA certificate.
        case authority
        /// The server's CA is not the one whose fingerprint was given.
        case authorityMismatch
        /// A local file could not be read or written.
        case file
    }

    package var status: Int?
    package var code: Code
    package var message: String

    package init(status: Int?, code: Code, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

/// An answer type with a value for "no content".
protocol EmptyAnswer {
    static var emptyAnswer: Any { get }
}

extension NoContent: EmptyAnswer {
    static var emptyAnswer: Any { NoContent() }
}

extension Optional: EmptyAnswer {
    static var emptyAnswer: Any { Wrapped?.none as Any }
}
