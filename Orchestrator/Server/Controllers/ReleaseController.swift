import Foundation
import Hummingbird
import NIOCore
import StellwerkAPI

/// Artifacts (uploaded by operators, downloaded by agents with Range requests) and releases.
struct ReleaseController: Sendable {
    let releases: ReleaseRegistry

    func register(on router: Router<ServerContext>) {
        router.onRaw(Endpoints.artifact) { request in try await artifact(request) }
        router.onRaw(Endpoints.uploadArtifact) { request in
            let created = try await releases.store(
                try request.parameter("sha256"), from: request.request.body.map { Array($0.readableBytesView) },
                actor: try request.user.actor)
            return Response(status: created ? .created : .noContent)
        }
        router.onReply(Endpoints.createRelease) { request in
            let user = try request.user
            let (release, created) = try await releases.create(request.body, by: user.name, actor: user.actor)
            return Reply(answer: release, status: created ? 201 : 200)
        }
        router.on(Endpoints.releases) { _ in try await releases.releases() }
        router.on(Endpoints.release) { request in try await releases.release(try request.parameter("id")) }
    }

    /// An artifact, whole or the byte range asked for, so an interrupted download resumes.
    private func artifact(_ request: EndpointRequest<NoBody>) async throws -> Response {
        let (sha, found) = try await releases.artifactFile(try request.parameter("sha256"))
        guard let path = found, let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw APIError.notFound("there is no artifact \(sha)") }
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .eTag: "\"\(sha)\"",
        ]
        var range = 0...max(size - 1, 0)
        var status = HTTPResponse.Status.ok
        if let header = request.request.headers[.range] {
            guard let asked = Self.byteRange(header, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            range = asked
            status = .partialContent
            headers[.contentRange] = "bytes \(asked.lowerBound)-\(asked.upperBound)/\(size)"
        }
        headers[.contentLength] = String(size == 0 ? 0 : range.count)
        if request.request.method == .head || size == 0 { return Response(status: status, headers: headers) }
        let body = try await FileIO().loadFile(path: path, range: range, context: request.context)
        return Response(status: status, headers: headers, body: body)
    }

    /// `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX`; one range only. Numbers too large for an
    /// `Int` are no range, not a crash.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0, size > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(parts[0]), start >= 0, start < size else { return nil }
        let end = parts[1].isEmpty ? size - 1 : min(Int(parts[1]) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start...end
    }
}
