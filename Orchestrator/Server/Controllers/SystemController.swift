import Foundation
import Hummingbird
import StellwerkAPI
import Store
import Telemetry

/// The server itself: health, metrics, the API document, the CA certificate and the signing key.
struct SystemController: Sendable {
    let store: StateStore
    let hub: EventHub
    let metrics: ServerMetrics
    let files: ServerFiles
    let releases: ReleaseRegistry
    let openAPI: Data

    func register(on router: Router<ServerContext>) {
        router.on(Endpoints.health) { _ in
            do {
                _ = try await store.schemaVersion()
            } catch {
                throw APIError(.unavailable, "the state store does not answer")
            }
            return HealthView(status: "ok", version: StellwerkVersion.current)
        }
        router.onRaw(Endpoints.metrics) { _ in
            Response(
                status: .ok, headers: [.contentType: PrometheusText.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: try await metricsPage())))
        }
        let document = openAPI
        router.onRaw(Endpoints.openAPI) { _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
        router.onRaw(Endpoints.authority) { _ in
            Response(
                status: .ok, headers: [.contentType: "application/x-pem-file"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: try files.authority.certificatePEM)))
        }
        router.on(Endpoints.signingKey) { _ in try releases.signingKey() }
    }

    private func metricsPage() async throws -> String {
        var page = PrometheusText()
        page.counter(
            "stellwerk_http_requests_total", help: "HTTP requests answered, by method, route and status.",
            samples: metrics.requests.samples())
        var byConnection: [[String]: Int] = [:]
        for node in try await store.nodes() {
            byConnection[[node.environment, node.connection.rawValue], default: 0] += 1
        }
        page.gauge(
            "stellwerk_nodes", help: "Known nodes by environment and connection.",
            samples: byConnection.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map {
                PrometheusText.Sample(
                    labels: [("environment", $0.key[0]), ("connection", $0.key[1])], value: Double($0.value))
            })
        var byState: [String: Int] = [:]
        for rollout in try await store.rollouts() { byState[rollout.state.rawValue, default: 0] += 1 }
        page.gauge(
            "stellwerk_rollouts", help: "Rollouts by state.",
            samples: byState.sorted { $0.key < $1.key }.map {
                PrometheusText.Sample(labels: [("state", $0.key)], value: Double($0.value))
            })
        let emergencies = try await store.emergencyChangeCounts()
        page.counter(
            "stellwerk_emergency_changes_total",
            help: "Emergency changes requested (not verified in the source, windows skipped), by environment.",
            samples: emergencies.sorted { $0.key < $1.key }.map {
                PrometheusText.Sample(labels: [("environment", $0.key)], value: Double($0.value))
            })
        page.gauge("stellwerk_event_subscribers", help: "Open /v1/events streams.", value: Double(hub.subscriberCount))
        return page.text
    }
}
