import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 request and its answer over a connection of its own, on plain SwiftNIO.
///
/// The agent polls every half minute and reports now and then, so a pooled client buys it nothing;
/// leaving one out keeps the agent's resident memory small (issue #4).
struct HTTPExchange: Sendable {
    /// Where a URL points: whether to speak TLS, the host to connect to, the port, and the path.
    struct Target: Equatable, Sendable {
        var secure: Bool
        var host: String
        var port: Int
        var path: String

        init(url: String) throws {
            let secure: Bool
            let rest: Substring
            if url.hasPrefix("https://") {
                secure = true
                rest = url.dropFirst("https://".count)
            } else if url.hasPrefix("http://") {
                secure = false
                rest = url.dropFirst("http://".count)
            } else {
                throw ClientError(status: nil, code: "url", message: "\(url) is not an http(s) URL")
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
                        throw ClientError(status: nil, code: "url", message: "\(url) has no valid port")
                    }
                    port = number
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                guard let number = Int(authority[authority.index(after: colon)...]) else {
                    throw ClientError(status: nil, code: "url", message: "\(url) has no valid port")
                }
                port = number
            }
            guard !host.isEmpty, (1...65535).contains(port) else {
                throw ClientError(status: nil, code: "url", message: "\(url) names no host and port")
            }
            self.secure = secure
            self.host = String(host)
            self.port = port
            self.path = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
        }

        /// The name sent for SNI and checked against the certificate; an address is checked by
        /// NIOSSL against the peer's address instead, and must not be sent as SNI.
        var serverName: String? {
            host.contains(":") || host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) ? nil : host
        }

        var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
        }
    }

    /// Why an exchange did not end with an answer.
    enum Failure: Error, CustomStringConvertible {
        case timedOut
        case closedEarly

        var description: String {
            switch self {
            case .timedOut: "no answer in time"
            case .closedEarly: "the connection was closed before the answer was complete"
            }
        }
    }

    let tls: NIOSSLContext

    /// Sends one request. `onHead` sees the answer's status line and headers, `onBody` each part of
    /// its body as it arrives (it is not read faster than `onBody` takes it).
    func run(
        method: HTTPMethod, url: String, headers: [(String, String)], body: ByteBuffer?, timeout: Duration,
        onHead: @escaping @Sendable (HTTPResponseHead) async throws -> Void,
        onBody: @escaping @Sendable (ByteBuffer) async throws -> Void
    ) async throws {
        let target = try Target(url: url)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target.path)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "stellwerk")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.readableBytes)) }
        let request = head

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let channel = try await connect(to: target)
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(.head(request))
                    if let body { try await outbound.write(.body(.byteBuffer(body))) }
                    try await outbound.write(.end(nil))
                    for try await part in inbound {
                        switch part {
                        case .head(let answer): try await onHead(answer)
                        case .body(let bytes): try await onBody(bytes)
                        case .end: return
                        }
                    }
                    throw Failure.closedEarly
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

    private func connect(
        to target: Target
    ) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let tls = target.secure ? self.tls : nil
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
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
    }
}
