import AgentCore
import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix
import StellwerkAPI
import Synchronization
import Telemetry

/// What the agent counts for `/metrics`: convergences by outcome and how long they took, and the
/// instances by state.
final class AgentMetrics: Sendable {
    let convergences = Counters(labels: ["outcome"])
    let convergenceSeconds = Histogram()
    private let instances = Mutex<[InstanceReport.State: Int]>([:])

    func setInstances(_ reports: [InstanceReport]) {
        var counts: [InstanceReport.State: Int] = [:]
        for report in reports { counts[report.state, default: 0] += 1 }
        instances.withLock { $0 = counts }
    }

    var page: String {
        var page = PrometheusText()
        page.counter(
            "stellwerk_agent_convergences_total",
            help: "Convergences to a desired state, by outcome (converged, failed, retrying).",
            samples: convergences.samples())
        page.histogram(
            "stellwerk_agent_convergence_seconds", help: "How long a convergence took.",
            series: convergenceSeconds.snapshots())
        let counts = instances.withLock { $0 }
        page.gauge(
            "stellwerk_agent_instances", help: "Instances on this node by state.",
            samples: InstanceReport.State.allCases.map {
                PrometheusText.Sample(labels: [("state", $0.rawValue)], value: Double(counts[$0] ?? 0))
            })
        return page.text
    }
}

/// `GET /metrics` on the address `--metrics` names, for a Prometheus on the node; off by default. A
/// few lines of NIO instead of a web framework, so the agent stays small; it answers nothing else.
struct AgentMetricsServer: Sendable {
    let address: (host: String, port: Int)
    let metrics: AgentMetrics

    func run() async {
        do {
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
            try await server.executeThenClose { connections in
                // One task per connection: a client that never finishes its request holds up no other.
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { try? await answer(connection) }
                    }
                }
            }
        } catch {
            StandardStreams.write(
                Data("stellwerk-agent: cannot serve metrics on \(address.host):\(address.port): \(error)\n".utf8),
                to: .error)
        }
    }

    private func answer(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { requests, responses in
            var head: HTTPRequestHead?
            for try await part in requests {
                switch part {
                case .head(let request): head = request
                case .body: break
                case .end:
                    let found = head?.method == .GET && head?.uri.split(separator: "?").first == "/metrics"
                    let text = found ? metrics.page : "not found: the agent answers GET /metrics only\n"
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: found ? PrometheusText.contentType : "text/plain")
                    headers.add(name: "Content-Length", value: String(text.utf8.count))
                    headers.add(name: "Connection", value: "close")
                    try await responses.write(
                        .head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers)))
                    try await responses.write(.body(.byteBuffer(ByteBuffer(string: text))))
                    try await responses.write(.end(nil))
                    return
                }
            }
        }
    }
}
