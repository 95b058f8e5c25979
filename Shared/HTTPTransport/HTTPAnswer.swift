package import FoundationEssentials
package import NIOCore
package import NIOHTTP1

/// An answer as it arrives: its head, and its body up to a limit.
package final class HTTPAnswer: @unchecked Sendable {
    // Written only by the one exchange that owns it, one part after the other.
    package var head: HTTPResponseHead?
    package private(set) var body = Data()
    private let limit: Int

    package init(limit: Int) { self.limit = limit }

    /// The status code; 0 before the head arrived.
    package var status: Int { Int(head?.status.code ?? 0) }

    /// The body as UTF-8 text.
    package var text: String { String(decoding: body, as: UTF8.self) }

    /// Every header of the answer, in order.
    package var headers: [(name: String, value: String)] { head?.headers.map { ($0.name, $0.value) } ?? [] }

    /// The first value of the header `name` (case does not matter).
    package func header(_ name: String) -> String? { head?.headers.first(name: name) }

    package func append(_ bytes: ByteBuffer) throws(HTTPExchange.Failure) {
        guard body.count + bytes.readableBytes <= limit else { throw .tooLarge(limit: limit) }
        body.append(contentsOf: bytes.readableBytesView)
    }
}

extension HTTPExchange {
    /// The request methods, so callers need not import NIOHTTP1 to name one.
    package typealias Method = HTTPMethod

    /// Sends one request and keeps its whole answer, its body up to `limit` bytes.
    package func collect(
        method: HTTPMethod, url: String, headers: [(String, String)], body: ByteBuffer?, timeout: Duration, limit: Int
    ) async throws -> HTTPAnswer {
        let answer = HTTPAnswer(limit: limit)
        try await run(
            method: method, url: url, headers: headers, body: body, timeout: timeout,
            onHead: { answer.head = $0 }, onBody: { try answer.append($0) })
        return answer
    }

    /// Sends one request with a whole body (or none) and keeps its answer: the short form for callers
    /// that read small JSON or HTML answers.
    package func fetch(
        _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: Data? = nil,
        timeout: Duration = .seconds(30), limit: Int = 32 << 20
    ) async throws -> HTTPAnswer {
        try await collect(
            method: method, url: url, headers: headers, body: body.map { ByteBuffer(bytes: $0) }, timeout: timeout,
            limit: limit)
    }
}
