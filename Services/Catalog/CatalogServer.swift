import Foundation
import Hummingbird
package import Logging
import NIOCore
import ServiceSupport
import Telemetry

/// The catalog over HTTP: the CKAN Action API under `/api/action/NAME` and `/api/3/action/NAME`
/// (GET with query parameters, POST with a JSON or form body), `/health` and `/metrics`. Every
/// answer is CKAN's envelope; no request is ever answered with a redirect.
package struct CatalogServer: Sendable {
    package let actions: CatalogActions
    package let logger: Logger
    /// CKAN API requests by action and status, for `/metrics`.
    private let requests = Counters(labels: ["action", "status"])

    package init(actions: CatalogActions, logger: Logger) {
        self.actions = actions
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT; `onRunning` gets the bound port.
    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = ServiceHTTP.router(
            logger: logger,
            health: {
                do {
                    try await actions.store.ping()
                    return nil
                } catch {
                    return "the store does not answer"
                }
            }, metrics: { await metrics(into: &$0) })
        for prefix in ["/api/action", "/api/3/action"] {
            router.get("\(prefix)/{name}") { request, context in try await self.handle(request, context) }
            router.post("\(prefix)/{name}") { request, context in try await self.handle(request, context) }
        }
        router.get("/api/3") { _, _ in Self.json(Data(#"{"version": 3}"#.utf8)) }
        for format in RDFFormat.allCases {
            router.get("/catalog.\(format.rawValue)") { request, _ in
                await self.rdf(request) { try await $0.catalog(format: format, query: $1) }
            }
        }
        router.get("/dataset/{file}") { request, context in
            let file = context.parameters.get("file") ?? ""
            return await self.rdf(request) { endpoints, _ in try await endpoints.dataset(file) }
        }
        let configuration = actions.configuration
        try await ServiceHTTP.serve(
            router, host: configuration.host, port: configuration.port, name: "catalog", logger: logger,
            onRunning: onRunning)
    }

    private func handle(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let action = context.parameters.get("name") ?? ""
        let help = "\(actions.configuration.publicURL)/api/3/action/help_show?name=\(action)"
        let response: Response
        do {
            let parameters = try await Self.parameters(of: request)
            let result = try await actions.perform(action, parameters, authorized: authorized(request))
            var body = Data(#"{"help": "#.utf8)
            body += try CatalogJSON.encoder.encode(help)
            body += Data(#", "success": true, "result": "#.utf8)
            body += result
            body += Data("}".utf8)
            response = Self.json(body)
        } catch let error as CatalogError {
            response = Self.failure(error, help: help)
        } catch {
            logger.error("catalog: \(action) failed: \(error)")
            response = Self.failure(CatalogError(.badRequest, "Internal error"), help: help, status: 500)
        }
        let known = CatalogActions.readActions.contains(action) || CatalogActions.writeActions.contains(action)
        requests.add([known ? action : "unknown", String(response.status.code)])
        return response
    }

    /// The API token from `Authorization` (bare or `Bearer`) or `X-CKAN-API-Key`, checked in constant time.
    private func authorized(_ request: Request) -> Bool {
        var given =
            request.headers[.authorization]
            ?? request.headers.first { $0.name.canonicalName == "x-ckan-api-key" }?.value ?? ""
        if given.lowercased().hasPrefix("bearer ") { given = String(given.dropFirst(7)) }
        return AccessToken.matches(given, actions.configuration.adminToken)
    }

    /// The largest request body taken: a dataset with many resources is a few hundred kilobytes.
    static let maximumBodyBytes = 10 << 20

    static func parameters(of request: Request) async throws -> Parameters {
        var parameters = Parameters(query: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        guard request.method == .post else { return parameters }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maximumBodyBytes)
        } catch {
            throw CatalogError(.tooLarge, "the request body is larger than \(Self.maximumBodyBytes >> 20) MiB")
        }
        let body = Data(buffer.readableBytesView)
        guard !body.isEmpty else { return parameters }
        let contentType = request.headers[.contentType] ?? ""
        if contentType.contains("application/x-www-form-urlencoded") {
            let text = String(decoding: body, as: UTF8.self)
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                parameters.values[parts[0]] = .string(parts.count > 1 ? parts[1] : "")
            }
            return parameters
        }
        guard case .object(let fields) = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            throw CatalogError(.badRequest, "Bad request - JSON Error: the body is not a JSON object")
        }
        for (key, value) in fields { parameters.values[key] = value }
        return parameters
    }

    private func rdf(
        _ request: Request, _ body: (DCATEndpoints, [(String, String)]) async throws -> (String, RDFFormat)
    ) async -> Response {
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        do {
            let (text, format) = try await body(DCATEndpoints(actions: actions), query)
            return Response(
                status: .ok, headers: [.contentType: format.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        } catch let failure as DCATEndpoints.Failure {
            return Self.text(failure.message, status: failure.status)
        } catch {
            logger.error("catalog: \(request.uri.path) failed: \(error)")
            return Self.text("internal error", status: 500)
        }
    }

    private func rdf(
        _ request: Request, _ body: @escaping (DCATEndpoints, [(String, String)]) async throws -> String
    ) async -> Response {
        let format = RDFFormat.allCases.first { request.uri.path.hasSuffix(".\($0.rawValue)") } ?? .turtle
        return await rdf(request) { endpoints, query in (try await body(endpoints, query), format) }
    }

    static func text(_ message: String, status: Int) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    private func metrics(into page: inout PrometheusText) async {
        page.counter(
            "catalog_action_requests_total", help: "CKAN API requests, by action and status.",
            samples: requests.samples())
        if let organizations = try? await actions.store.organizations(groups: false) {
            page.gauge(
                "catalog_datasets", help: "Public, active datasets.",
                value: Double(organizations.reduce(0) { $0 + ($1.packageCount ?? 0) }))
            page.gauge("catalog_organizations", help: "Organisations.", value: Double(organizations.count))
        }
    }

    static func failure(_ error: CatalogError, help: String, status: Int? = nil) -> Response {
        let envelope: [String: JSONValue] = [
            "help": .string(help), "success": .bool(false), "error": .object(error.body),
        ]
        return json(
            (try? CatalogJSON.encoder.encode(envelope)) ?? Data(), status: status ?? error.kind.status)
    }

    static func json(_ data: Data, status: Int = 200) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json;charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
