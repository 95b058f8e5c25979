package import NIOCore
package import NIOHTTP1
import NIOPosix
package import NIOSSL
import Synchronization

/// HTTP/1.1 requests on plain SwiftNIO, each connection kept open for the next request.
///
/// The agent needs little of an HTTP client: a long-poll, a report now and then, a download, a health
/// probe. Doing just that keeps its resident memory small (issue #4), and keeping connections open
/// spares the orchestrator a TLS handshake per request from every node. The portal reads its catalog
/// with it too, so the platform has one HTTP client.
///
/// ```swift
/// let http = HTTPExchange()
/// let answer = try await http.fetch("http://127.0.0.1:8101/health")
/// print(answer.status, answer.text)
/// ```
package final class HTTPExchange: Sendable {
    /// Where a URL points: whether to speak TLS, the host to connect to, the port, and the path.
    package struct Target: Sendable {
        package var secure: Bool
        package var host: String
        package var port: Int
        package var path: String

        package init(url: String) throws(HTTPExchange.Failure) {
            let secure: Bool
            let rest: Substring
            if url.hasPrefix("https://") {
                secure = true
                rest = url.dropFirst("https://".count)
            } else if url.hasPrefix("http://") {
                secure = false
                rest = url.dropFirst("http://".count)
            } else {
                throw .badURL("\(url) is not an http(s) URL")
            }
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            let path = rest.dropFirst(authority.count)
            var host = Substring(authority)
            var port = secure ? 443 : 80
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                host = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let number = Int(after.dropFirst()) else {
                        throw .badURL("\(url) has no valid port")
                    }
                    port = number
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                guard let number = Int(authority[authority.index(after: colon)...]) else {
                    throw .badURL("\(url) has no valid port")
                }
                port = number
            }
            guard !host.isEmpty, (1...65535).contains(port) else {
                throw .badURL("\(url) names no host and port")
            }
            self.secure = secure
            self.host = String(host)
            self.port = port
            self.path = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
        }

        /// The name sent for SNI and checked against the certificate; an address is checked by
        /// NIOSSL against the peer's address instead, and must not be sent as SNI.
        package var serverName: String? {
            host.contains(":") || host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) ? nil : host
        }

        package var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
        }

        /// Which kept connections can carry a request to this target.
        var connectionKey: String { "\(secure ? "https" : "http")://\(hostHeader)" }
    }

    /// Why an exchange did not end with an answer.
    package enum Failure: Error, CustomStringConvertible {
        case timedOut
        case closedEarly
        /// The request failed before any of the answer arrived, for `cause`. On a kept connection
        /// that most likely means the server had closed it while it was idle, so the request goes
        /// again on a new one.
        case notAnswered(cause: any Error)
        /// The request could not even be written, for `cause`: sending it again cannot run it twice.
        case notSent(cause: any Error)
        /// The URL cannot be requested.
        case badURL(String)
        /// The answer's body is longer than the caller accepts, in bytes.
        case tooLarge(limit: Int)

        package var description: String {
            switch self {
            case .timedOut: "no answer in time"
            case .closedEarly: "the connection was closed before the answer was complete"
            case .notAnswered(let cause), .notSent(let cause): "\(cause)"
            case .badURL(let reason): reason
            case .tooLarge(let limit): "the answer is larger than \(limit >> 20) MiB"
            }
        }
    }

    /// The TLS context for `https` URLs; `nil` for a client that speaks plain HTTP only.
    let tls: NIOSSLContext?
    private let idle = Mutex<[String: [KeptConnection]]>([:])
    /// At most this many idle connections per server: by default 2, the agent's long-poll and its
    /// reports; a client that sends that many requests at once keeps as many.
    private let idlePerServer: Int
    /// A connection idle longer than this is not trusted to be open still.
    private static let idleLimit = Duration.seconds(50)

    package init(tls: NIOSSLContext? = nil, idlePerServer: Int = 2) {
        self.tls = tls
        self.idlePerServer = max(1, idlePerServer)
    }

    deinit { closeIdleConnections() }

    /// Sends one request. `onHead` sees the answer's status line and headers, `onBody` each part of
    /// its body as it arrives (it is not read faster than `onBody` takes it).
    package func run(
        method: HTTPMethod, url: String, headers: [(String, String)], body: ByteBuffer?, timeout: Duration,
        onHead: @escaping @Sendable (HTTPResponseHead) async throws -> Void,
        onBody: @escaping @Sendable (ByteBuffer) async throws -> Void
    ) async throws {
        let target = try Target(url: url)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target.path)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "User-Agent", value: "stellwerk")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.readableBytes)) }
        let request = KeptConnection.Request(head: head, body: body, onHead: onHead, onBody: onBody)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                if let kept = self.takeIdleConnection(for: target) {
                    do {
                        if try await kept.send(request) { self.keep(kept, for: target) }
                        return
                    } catch Failure.notAnswered, Failure.notSent {
                        // Nothing came back: send it again on a new connection.
                        try Task.checkCancellation()
                    }
                }
                guard !target.secure || self.tls != nil else {
                    throw Failure.badURL("\(url): this client speaks plain HTTP only")
                }
                // A new connection that closes before the request went out (seen on a busy machine) gets
                // one more try: nothing was sent, so nothing can happen twice. One closed before any of
                // the answer came gets one more try too for a GET or HEAD, which change nothing when
                // they run twice (as browsers retry them).
                let idempotent = method == .GET || method == .HEAD
                for attempt in 1...2 {
                    let fresh = try await KeptConnection.open(to: target, tls: target.secure ? self.tls : nil)
                    do {
                        if try await fresh.send(request) { self.keep(fresh, for: target) }
                        return
                    } catch Failure.notSent(let cause) {
                        if attempt == 2 { throw cause }
                        try Task.checkCancellation()
                    } catch Failure.notAnswered(let cause) {
                        if attempt == 2 || !idempotent { throw cause }
                        try Task.checkCancellation()
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure.timedOut
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Closes the connections kept for later requests.
    package func closeIdleConnections() {
        let connections = idle.withLock { kept in
            defer { kept = [:] }
            return Array(kept.values.joined())
        }
        for connection in connections { connection.close() }
    }

    private func takeIdleConnection(for target: Target) -> KeptConnection? {
        let (usable, stale) = idle.withLock { kept -> (KeptConnection?, [KeptConnection]) in
            var fresh: [KeptConnection] = []
            var stale: [KeptConnection] = []
            for connection in kept[target.connectionKey] ?? [] {
                if connection.isFresh(within: Self.idleLimit) {
                    fresh.append(connection)
                } else {
                    stale.append(connection)
                }
            }
            let usable = fresh.popLast()
            kept[target.connectionKey] = fresh
            return (usable, stale)
        }
        for connection in stale { connection.close() }
        return usable
    }

    private func keep(_ connection: KeptConnection, for target: Target) {
        let surplus = idle.withLock { kept -> KeptConnection? in
            var list = kept[target.connectionKey] ?? []
            list.append(connection)
            let surplus = list.count > idlePerServer ? list.removeFirst() : nil
            kept[target.connectionKey] = list
            return surplus
        }
        surplus?.close()
    }
}

/// One open connection and the task that owns it, carrying one request at a time.
///
/// NIO hands the connection's reader and writer to a single scope, so a task keeps that scope open and
/// takes requests from a one-place slot; whoever sent a request waits for its answer. Every waiting
/// sender is answered exactly once, whichever comes first: the answer, a failure, its own
/// cancellation, or the end of the connection's task.
final class KeptConnection: Sendable {
    struct Request: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer?
        var onHead: @Sendable (HTTPResponseHead) async throws -> Void
        var onBody: @Sendable (ByteBuffer) async throws -> Void
    }

    /// A request on its way, and who waits for it: `true` when the connection may carry another.
    private struct Job: Sendable {
        var id: Int
        var request: Request
        var done: CheckedContinuation<Bool, any Error>
    }

    private struct Slot {
        var waiting: Job?
        var nextID = 0
        /// The connection's task has ended: nothing more goes through.
        var ended = false
    }

    private let slot = Mutex(Slot())
    private let wake: AsyncStream<Void>.Continuation
    private let channel: any Channel
    private let lastUsed = Mutex(ContinuousClock.now)

    private init(wake: AsyncStream<Void>.Continuation, channel: any Channel) {
        self.wake = wake
        self.channel = channel
    }

    static func open(to target: HTTPExchange.Target, tls: NIOSSLContext?) async throws -> KeptConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: target.serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let (signals, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let connection = KeptConnection(wake: wake, channel: channel.channel)
        Task { await connection.serve(channel, signals: signals) }
        return connection
    }

    func isFresh(within limit: Duration) -> Bool {
        lastUsed.withLock { ContinuousClock.now - $0 < limit }
    }

    /// Sends `request` and waits until its answer has been handed over; `true` when the connection
    /// may carry another request. Cancelling closes the connection and ends the wait at once.
    func send(_ request: Request) async throws -> Bool {
        defer { lastUsed.withLock { $0 = .now } }
        let id = slot.withLock { slot -> Int in
            slot.nextID += 1
            return slot.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { done in
                let accepted = slot.withLock { slot -> Bool in
                    guard !slot.ended, slot.waiting == nil else { return false }
                    slot.waiting = Job(id: id, request: request, done: done)
                    return true
                }
                if accepted {
                    wake.yield()
                } else {
                    done.resume(throwing: HTTPExchange.Failure.notAnswered(cause: HTTPExchange.Failure.closedEarly))
                }
            }
        } onCancel: {
            channel.close(promise: nil)
            answer(id, with: .failure(CancellationError()))
        }
    }

    func close() {
        wake.finish()
        channel.close(promise: nil)
    }

    deinit { wake.finish() }

    /// Hands the outcome to the sender of job `id`, if it still waits: each exactly once.
    private func answer(_ id: Int, with result: Result<Bool, any Error>) {
        let job = slot.withLock { slot -> Job? in
            guard slot.waiting?.id == id else { return nil }
            defer { slot.waiting = nil }
            return slot.waiting
        }
        job?.done.resume(with: result)
    }

    private func serve(
        _ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, signals: AsyncStream<Void>
    ) async {
        // Every job is answered inside or below; what executeThenClose may throw on closing is of no use.
        try? await channel.executeThenClose { inbound, outbound in
            var answers = inbound.makeAsyncIterator()
            for await _ in signals {
                guard let job = slot.withLock({ $0.waiting }) else { continue }
                var sent = false
                var answered = false
                do {
                    // One write for the whole request: a server that answers and closes as soon as
                    // it has the head (as one saying `Connection: close` may) would otherwise close the
                    // channel under a later write of the end, failing a request that was answered.
                    var parts: [HTTPClientRequestPart] = [.head(job.request.head)]
                    if let body = job.request.body { parts.append(.body(.byteBuffer(body))) }
                    parts.append(.end(nil))
                    try await outbound.write(contentsOf: parts)
                    sent = true
                    var keepAlive = false
                    receiving: while true {
                        guard let part = try await answers.next() else {
                            throw HTTPExchange.Failure.closedEarly
                        }
                        switch part {
                        case .head(let head):
                            answered = true
                            keepAlive = head.isKeepAlive
                            try await job.request.onHead(head)
                        case .body(let bytes): try await job.request.onBody(bytes)
                        case .end: break receiving
                        }
                    }
                    answer(job.id, with: .success(keepAlive))
                    if !keepAlive { return }
                } catch {
                    let failure: any Error =
                        answered
                        ? error
                        : sent
                            ? HTTPExchange.Failure.notAnswered(cause: error)
                            : HTTPExchange.Failure.notSent(cause: error)
                    answer(job.id, with: .failure(failure))
                    return
                }
            }
        }
        // However the connection's task ended, nobody waits for it any more.
        let job = slot.withLock { slot -> Job? in
            slot.ended = true
            defer { slot.waiting = nil }
            return slot.waiting
        }
        job?.done.resume(throwing: HTTPExchange.Failure.notAnswered(cause: HTTPExchange.Failure.closedEarly))
    }
}
