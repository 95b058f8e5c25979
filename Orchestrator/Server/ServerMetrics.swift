import Foundation
import Hummingbird
import Synchronization

/// Counters for `/metrics`, in the Prometheus text format, without a metrics framework: the few
/// numbers an operator graphs (requests by route and status, agents, rollouts).
final class ServerMetrics: Sendable {
    private let requests = Mutex<[String: Int]>([:])

    func count(method: String, route: String, status: Int) {
        requests.withLock { $0["method=\"\(method)\",route=\"\(route)\",status=\"\(status)\"", default: 0] += 1 }
    }

    func render(gauges: [(name: String, help: String, labels: String, value: Double)]) -> String {
        var lines = [
            "# HELP stellwerk_http_requests_total HTTP requests answered, by method, route and status.",
            "# TYPE stellwerk_http_requests_total counter",
        ]
        for (labels, value) in requests.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            lines.append("stellwerk_http_requests_total{\(labels)} \(value)")
        }
        var described: Set<String> = []
        for gauge in gauges {
            if described.insert(gauge.name).inserted {
                lines.append("# HELP \(gauge.name) \(gauge.help)")
                lines.append("# TYPE \(gauge.name) gauge")
            }
            let labels = gauge.labels.isEmpty ? "" : "{\(gauge.labels)}"
            lines.append(
                "\(gauge.name)\(labels) \(gauge.value == gauge.value.rounded() ? String(Int(gauge.value)) : String(gauge.value))"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        metrics.count(
            method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code)
        return response
    }
}
