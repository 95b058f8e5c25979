import Foundation
package import Hummingbird
package import Logging
package import ServiceLifecycle
package import Telemetry

/// The HTTP side every platform service shares: a router that answers `HEAD` wherever it answers
/// `GET` (uptime monitors and `curl -I` use it), one log line per request, `/health` and `/metrics`,
/// and a server that stops gracefully on SIGTERM or SIGINT.
///
/// ```swift
/// let router = ServiceHTTP.router(logger: logger, health: { try await store.ping() }, metrics: { page in
///     page.gauge("catalog_datasets", help: "Public, active datasets.", value: 10)
/// })
/// router.get("/api/3/action/{name}") { request, context in … }
/// try await ServiceHTTP.serve(router, host: "127.0.0.1", port: 8101, name: "catalog", logger: logger)
/// ```
package enum ServiceHTTP {
    /// A router with the shared routes and middleware. `health` says why the service is not ready
    /// (its store does not answer, say) or `nil` when it is; `metrics` adds the service's own families
    /// to the page.
    package static func router(
        logger: Logger, health: @escaping @Sendable () async -> String? = { nil },
        metrics: @escaping @Sendable (inout PrometheusText) async -> Void = { _ in }
    ) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.get("/health") { _, _ in await healthResponse(health) }
        router.get("/metrics") { _, _ in
            var page = PrometheusText()
            await metrics(&page)
            return Response(
                status: .ok, headers: [.contentType: PrometheusText.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: page.text)))
        }
        return router
    }

    /// Serves `router` on `host:port` until the process gets SIGTERM or SIGINT; then it stops
    /// accepting connections and lets the requests in flight finish. `services` run beside it (and
    /// stop after it). `onRunning` gets the bound port.
    package static func serve(
        _ router: Router<BasicRequestContext>, host: String, port: Int, name: String, logger: Logger,
        services: [any Service] = [], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "stellwerk-\(name)"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: services + [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// `200 {"status": "ok"}` when `check` finds nothing wrong, else `503` with its reason.
    static func healthResponse(_ check: @Sendable () async -> String?) async -> Response {
        let (status, body): (HTTPResponse.Status, String)
        if let reason = await check() {
            let quoted = String(decoding: (try? JSONEncoder().encode(reason)) ?? Data(#""""#.utf8), as: UTF8.self)
            (status, body) = (.serviceUnavailable, #"{"status": "unavailable", "reason": \#(quoted)}"#)
        } else {
            (status, body) = (.ok, #"{"status": "ok"}"#)
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// One line per request at `info`: method, path, status and how long it took. The query is left out:
/// search words and filters say what a visitor looked for, and that is nobody's business.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(
        _ request: Request, context: BasicRequestContext,
        next: (Request, BasicRequestContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, status: response.status.code, since: started)
            return response
        } catch let error as any HTTPResponseError {
            log(request, status: error.status.code, since: started)
            throw error
        } catch {
            log(request, status: 500, since: started)
            throw error
        }
    }

    private func log(_ request: Request, status: Int, since started: ContinuousClock.Instant) {
        let milliseconds = (ContinuousClock.now - started) / .milliseconds(1)
        logger.info(
            "\(request.method.rawValue) \(request.uri.path) \(status) \(String(format: "%.1f", milliseconds)) ms")
    }
}
