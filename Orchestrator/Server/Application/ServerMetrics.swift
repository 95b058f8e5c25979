import Foundation
import Hummingbird
import Telemetry

/// What `/metrics` counts beyond the gauges read from the store when it is asked: requests by route
/// and status.
final class ServerMetrics: Sendable {
    let requests = Counters(labels: ["method", "route", "status"])
}

struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        metrics.requests.add(
            [request.method.rawValue, context.endpointPath ?? "unmatched", String(response.status.code)])
        return response
    }
}
