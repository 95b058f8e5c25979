import Foundation
import Hummingbird
import NIOCore
import StellwerkAPI
import Store

/// What operators watch and keep: the event stream, the audit log, and the locks servers hold.
struct OperationsController: Sendable {
    let store: StateStore
    let hub: EventHub

    func register(on router: Router<ServerContext>) {
        router.onRaw(Endpoints.events) { request in try events(request) }
        router.on(Endpoints.audit) { request in
            let limit = min(max(try request.query("limit", as: Int.self) ?? 100, 1), 10_000)
            return try await store.auditEntries(environment: request.query("env"), limit: limit).map(\.view)
        }
        router.on(Endpoints.verifyAudit) { _ in
            let verification = try await store.verifyAudit()
            return AuditVerificationView(entries: verification.entries, problems: verification.problems)
        }
        router.on(Endpoints.locks) { _ in try await store.leases().map(\.view) }
        router.on(Endpoints.breakLock) { request in
            let name = try request.parameter("name")
            _ = try await store.breakLease(name, actor: try request.user.actor)
            hub.publish(.lockBroken, environment: "", object: name, detail: "by \(try request.user.name)")
            return NoContent()
        }
    }

    /// Server-sent events: what was missed since `Last-Event-ID` (or `after`), then as they happen,
    /// each only if the operator may read its environment.
    private func events(_ request: EndpointRequest<NoBody>) throws -> Response {
        let lastEventID = request.request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
        let after =
            try lastEventID.map { text throws(APIError) -> Int in
                guard let value = Int(text) else { throw .badRequest("Last-Event-ID must be a whole number") }
                return value
            } ?? request.query("after", as: Int.self)
        let only = request.query("env")
        let stream = hub.subscribe(after: after)
        let encoder = JSONResponse.encoder
        let mayRead = request.mayRead
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": stellwerk events\n\n"))
                for await event in stream {
                    if let only, event.environment != only, !event.environment.isEmpty { continue }
                    if !event.environment.isEmpty, !mayRead(event.environment) { continue }
                    let data = String(decoding: (try? encoder.encode(event)) ?? Data(), as: UTF8.self)
                    try await writer.write(
                        ByteBuffer(string: "id: \(event.sequence)\nevent: \(event.type.rawValue)\ndata: \(data)\n\n"))
                }
                try await writer.finish(nil)
            })
    }
}
