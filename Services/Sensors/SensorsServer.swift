import Database
import Foundation
import Hummingbird
package import Logging
package import MQTT
import NIOCore
import SensorThings
import ServiceLifecycle
import ServiceSupport
import Telemetry

/// The sensor service over HTTP: the OGC SensorThings API 1.1 under `/v1.1`, `/health` and
/// `/metrics`. Reading is open to anyone; writing needs the configured token.
package struct SensorsServer: Sendable {
    package let store: SensorStore
    package let configuration: SensorsConfiguration
    package let logger: Logger
    let now: @Sendable () -> Int64
    /// Where new and changed entities are announced; nil without a configured broker.
    package let mqtt: MQTTClient?
    /// Uplinks from LoRaWAN network servers become observations here.
    let ingestor: Ingestor
    /// Pulls from Pegelonline sources, by outcome.
    let pulls = Counters(labels: ["what", "outcome"])
    /// Alerts raised and ended, and deliveries, by kind and outcome.
    let alerts = Counters(labels: ["kind", "outcome"])
    /// Uplinks that arrived over MQTT, taken one after another by the ingest service.
    private let uplinks: AsyncStream<MQTTClient.Message>
    /// Requests by method and status, for `/metrics`.
    let requests = Counters(labels: ["method", "status"])

    /// The largest request body taken (a bulk upload of observations included).
    static let maximumBodyBytes = 16 << 20

    package init(
        store: SensorStore, configuration: SensorsConfiguration, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.now = now
        // Bounded: a flood of uplinks while the store is slow is dropped (and counted by the broker's
        // queue for the persistent session), not held in memory without end.
        let (uplinks, arrived) = AsyncStream.makeStream(
            of: MQTTClient.Message.self, bufferingPolicy: .bufferingOldest(10_000))
        self.uplinks = uplinks
        if let broker = configuration.mqtt {
            var settings = MQTTClient.Settings(
                host: broker.host, port: broker.port, clientID: broker.clientID, username: broker.user,
                password: broker.password)
            settings.outboxLimit = broker.outboxLimit
            if configuration.ingestOverMQTT { settings.subscriptions = Uplink.Format.allCases.map(\.topicFilter) }
            mqtt = try MQTTClient(settings, logger: logger) { message in arrived.yield(message) }
        } else {
            mqtt = nil
            arrived.finish()
        }
        ingestor = Ingestor(store: store, configuration: configuration, logger: logger, now: now, mqtt: mqtt)
    }

    /// The conformance classes `GET /v1.1` announces: only what is built.
    static let conformance = [
        "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
        "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
        "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
        "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
        "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
        "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/create-observations",
    ]

    /// Announced besides `conformance` when a broker is configured.
    static let mqttConformance =
        "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates"

    /// Serves until SIGTERM or SIGINT, with old observations deleted past the retention time;
    /// `onRunning` gets the bound port.
    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = ServiceHTTP.router(
            logger: logger,
            health: {
                do {
                    try await store.ping()
                    return nil
                } catch {
                    return "the store does not answer"
                }
            },
            metrics: { page in
                page.counter(
                    "sensors_requests_total", help: "SensorThings API requests, by method and status.",
                    samples: requests.samples())
                page.counter(
                    "sensors_alerts_total", help: "Alerts raised and ended, and webhook deliveries, by outcome.",
                    samples: alerts.samples())
                page.counter(
                    "sensors_pull_total",
                    help: "Pulls from Pegelonline sources: requests and readings, by outcome.",
                    samples: pulls.samples())
                page.counter(
                    "sensors_ingest_readings_total",
                    help: "Readings from LoRaWAN network servers, by source, format and outcome.",
                    samples: ingestor.outcomes.samples())
                if let statistics = mqtt?.statistics {
                    page.gauge(
                        "sensors_mqtt_connected", help: "Whether the broker accepted the service's connection.",
                        value: statistics.connected ? 1 : 0)
                    page.counter(
                        "sensors_mqtt_published_total", help: "Messages the broker acknowledged.",
                        samples: [.init(value: Double(statistics.acknowledged))])
                    page.counter(
                        "sensors_mqtt_dropped_total",
                        help: "Messages dropped because the outbox was full or the broker cannot take them.",
                        samples: [.init(value: Double(statistics.dropped))])
                    page.gauge(
                        "sensors_mqtt_queued", help: "Messages waiting for the broker or its acknowledgement.",
                        value: Double(statistics.queued))
                }
            })
        router.get("/v1.1") { _, _ in self.json(self.serviceDocument(), status: 200) }
        router.get("/pegelonline/v2/**") { request, _ in await self.pegelonline(request) }
        router.get("/alerts") { request, _ in await self.alertList(request) }
        router.get("/alerts.atom") { _, _ in await self.alertFeed() }
        router.get("/alerts/:id") { _, context in await self.alertCAP(context.parameters.get("id") ?? "") }
        router.post("/alerts/:id/acknowledge") { request, context in
            await self.acknowledge(request, id: context.parameters.get("id") ?? "")
        }
        router.post("/ingest/:format") { request, context in
            await self.webhook(request, format: context.parameters.get("format") ?? "")
        }
        for method in [HTTPRequest.Method.get, .post, .patch, .put, .delete] {
            router.on("/v1.1/**", method: method) { request, _ in await self.handle(request) }
        }
        // Stopped in reverse order: HTTP first, so nothing new is queued while the outbox drains.
        var services: [any Service] = []
        if let mqtt { services.append(MQTTService(client: mqtt)) }
        if mqtt != nil && configuration.ingestOverMQTT {
            services.append(UplinkService(uplinks: uplinks, ingestor: ingestor, logger: logger))
        }
        services.append(
            AlertService(store: store, configuration: configuration, logger: logger, now: now, counts: alerts))
        if !configuration.pullSources.isEmpty {
            services.append(
                PegelonlinePull(
                    store: store, configuration: configuration, logger: logger, now: now, ingestor: ingestor,
                    counts: pulls))
        }
        let retention = RetentionService(
            store: store, retentionSeconds: configuration.retentionSeconds, logger: logger, now: now)
        // Before the first request: nobody reads what the retention time has already ended.
        await retention.pass()
        services.append(retention)
        try await ServiceHTTP.serve(
            router, host: configuration.host, port: configuration.port, name: "sensors", logger: logger,
            services: services, onRunning: onRunning)
    }

    func serviceDocument() -> String {
        let root = configuration.publicURL + "/v1.1"
        let sets: [JSONValue] = EntityModel.all.map { type in
            .object([("name", .string(type.setName)), ("url", .string("\(root)/\(type.setName)"))])
        }
        return JSONValue.object([
            ("value", .array(sets)),
            (
                "serverSettings",
                .object(
                    [
                        (
                            "conformance",
                            .array(
                                (Self.conformance + (mqtt == nil ? [] : [Self.mqttConformance])).map(JSONValue.string))
                        )
                    ]
                        + (mqtt == nil
                            ? []
                            : [
                                (
                                    "mqtt",
                                    .object([("endpoints", .array([.string(configuration.mqtt?.publicURL ?? "")]))])
                                )
                            ]))
            ),
        ]).text
    }

    private func handle(_ request: Request) async -> Response {
        let response: Response
        do {
            response = try await answer(request)
        } catch let error as SensorsError {
            response = json(error.body, status: error.kind.status)
        } catch {
            logger.error("sensors: \(request.method.rawValue) \(request.uri.path) failed: \(error)")
            response = json(
                SensorsError(.internalError, "internal error; the service's log says more").body, status: 500)
        }
        requests.add([request.method.rawValue, String(response.status.code)])
        return response
    }

    private func answer(_ request: Request) async throws -> Response {
        let relative = String(request.uri.path.dropFirst("/v1.1/".count))
        let segments = relative.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        if segments == ["CreateObservations"] {
            guard request.method == .post else {
                throw SensorsError(.methodNotAllowed, "CreateObservations takes POST only")
            }
            try authorize(request)
            let writer = EntityWriter(
                store: store, configuration: configuration, now: now, mqtt: mqtt, changed: ingestor.invalidate)
            let links = try await writer.createObservations(try await body(of: request))
            return json(JSONValue.array(links.map(JSONValue.string)).text, status: 201)
        }
        let path: ResourcePath
        do {
            path = try ResourcePath.parse(segments)
        } catch {
            throw SensorsError(.notFound, "\(request.uri.path): \(error.description)")
        }
        let reader = EntityReader(store: store, configuration: configuration, now: now)
        let writer = EntityWriter(
            store: store, configuration: configuration, now: now, mqtt: mqtt, changed: ingestor.invalidate)
        switch request.method {
        case .get:
            let query = Self.queryParameters(request.uri.query ?? "")
            let text = try await reader.read(path, query: query, requestPath: "/" + relative)
            if path.rawValue {
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            }
            return json(text, status: 200)
        case .post:
            try authorize(request)
            let body = try await self.body(of: request)
            let (created, entity) = try await writer.create(body, at: path)
            let location = "\(configuration.publicURL)/v1.1/\(created.type.setName)(\(created.id))"
            var response = json(entity, status: 201)
            response.headers[.location] = location
            return response
        case .patch, .put:
            try authorize(request)
            let body = try await self.body(of: request)
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            let change: EntityWriter.Change =
                request.method == .put
                ? .replace(body) : contentType.hasPrefix("application/json-patch+json") ? .patch(body) : .merge(body)
            try await writer.update(change, at: path)
            return json(try await reader.read(path, query: [], requestPath: "/" + relative), status: 200)
        case .delete:
            try authorize(request)
            try await writer.delete(at: path)
            return Response(status: .ok)
        default:
            throw SensorsError(.methodNotAllowed, "\(request.method.rawValue) is not allowed here")
        }
    }

    /// The query's parameters, decoded as HTML forms encode them (`+` is a space; clients such as
    /// frost-sta-client send `$filter=result+gt+3`), in their order.
    static func queryParameters(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                let spaced = $0.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    /// Writing needs the token: `Authorization: Bearer TOKEN`, or HTTP basic authentication with the
    /// token as the password (what FROST clients send).
    private func authorize(_ request: Request) throws {
        let header = request.headers[.authorization] ?? ""
        var given = ""
        if header.lowercased().hasPrefix("bearer ") {
            given = String(header.dropFirst(7))
        } else if header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))),
            let credentials = String(data: decoded, encoding: .utf8), let colon = credentials.firstIndex(of: ":")
        {
            given = String(credentials[credentials.index(after: colon)...])
        }
        guard AccessToken.matches(given, configuration.adminToken) else {
            throw SensorsError(
                .unauthorized,
                configuration.adminToken.isEmpty
                    ? "this service takes no writes (it has no admin_token)" : "writing needs the service's token")
        }
    }

    private func body(of request: Request) async throws -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maximumBodyBytes)
        } catch {
            throw SensorsError(.payloadTooLarge, "the body is larger than \(Self.maximumBodyBytes >> 20) MiB")
        }
        do {
            return try JSONParser.parse(buffer.readableBytesView)
        } catch {
            throw SensorsError(.badRequest, error.description)
        }
    }

    func json(_ text: String, status: Int) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

extension SensorsServer {
    /// `POST /ingest/ttn` or `/ingest/chirpstack`: one uplink as the network server's webhook sends it,
    /// with the ingest token. Answers what became of each reading; an uplink that cannot be used is
    /// answered 200 too (with its outcome), since sending it again would not help.
    func webhook(_ request: Request, format name: String) async -> Response {
        guard let format = Uplink.Format(rawValue: name) else {
            return json(
                SensorsError(
                    .notFound,
                    "no webhook /ingest/\(name); there are "
                        + Uplink.Format.allCases.map { "/ingest/\($0.rawValue)" }.joined(separator: ", ")
                ).body, status: 404)
        }
        let header = request.headers[.authorization] ?? ""
        let given = header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)) : ""
        guard AccessToken.matches(given, configuration.ingestToken) else {
            let message =
                configuration.ingestToken.isEmpty
                ? "this service takes no webhooks (it has no ingest_token)" : "a webhook needs the ingest token"
            return json(SensorsError(.unauthorized, message).body, status: 401)
        }
        var request = request
        do {
            let body = try await request.collectBody(upTo: 1 << 20)
            let outcomes = try await ingestor.ingest(Array(buffer: body), format: format, source: "webhook")
            let answer = JSONValue.object([
                (
                    "readings",
                    .array(
                        outcomes.map { outcome in
                            .object(
                                [("outcome", .string(outcome.outcome))]
                                    + (outcome.datastream.map { [("Datastream", .integer($0))] } ?? [])
                                    + (outcome.message.map { [("message", .string($0))] } ?? []))
                        })
                )
            ])
            return json(answer.text, status: 200)
        } catch {
            logger.error("ingest: a webhook uplink could not be stored: \(error)")
            return json(SensorsError(.internalError, "the uplink could not be stored; send it again").body, status: 503)
        }
    }
}

extension SensorsServer {
    /// `GET /pegelonline/v2/…`: the Pegelonline-shaped read view, when `pegelonline_view` is on.
    func pegelonline(_ request: Request) async -> Response {
        let view = PegelonlineView(store: store, now: now)
        let path = String(request.uri.path.dropFirst("/pegelonline/v2/".count))
        let (status, body): (Int, String)
        do {
            guard configuration.pegelonlineView else {
                throw PegelonlineView.Failure(status: 404, message: "the Pegelonline view is off (pegelonline_view)")
            }
            (status, body) = (200, try await view.answer(path, query: Self.queryParameters(request.uri.query ?? "")))
        } catch let failure as PegelonlineView.Failure {
            (status, body) = (failure.status, failure.body)
        } catch {
            logger.error("pegelonline: \(request.uri.path) failed: \(error)")
            (status, body) = (500, PegelonlineView.Failure(status: 500, message: "internal error").body)
        }
        requests.add(["GET", String(status)])
        return json(body, status: status)
    }
}

extension SensorsServer {
    /// `GET /alerts`: the open alerts and the latest ended ones, newest first (`?state=open` for the
    /// open ones only).
    func alertList(_ request: Request) async -> Response {
        let openOnly = Self.queryParameters(request.uri.query ?? "").contains { $0 == ("state", "open") }
        do {
            let documents = try await AlertDocument.list(
                openOnly ? "WHERE a.ended_at IS NULL" : "", [], store: store, configuration: configuration)
            return json(JSONValue.object([("value", .array(documents.map { .object($0.json) }))]).text, status: 200)
        } catch {
            logger.error("alerts: listing failed: \(error)")
            return json(SensorsError(.internalError, "internal error").body, status: 500)
        }
    }

    /// `GET /alerts.atom`: the alerts that are not over, and those that ended in the last day (as
    /// CAP `Cancel`), as an Atom feed of CAP 1.2 documents.
    func alertFeed() async -> Response {
        do {
            let documents = try await AlertDocument.list(
                "WHERE a.ended_at IS NULL OR a.ended_at > $1", [.integer(now() - 86_400_000)], limit: 500, store: store,
                configuration: configuration)
            return Response(
                status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string: AlertDocument.capFeed(documents, root: configuration.publicURL, now: now()))))
        } catch {
            logger.error("alerts: the CAP feed failed: \(error)")
            return json(SensorsError(.internalError, "internal error").body, status: 500)
        }
    }

    /// `GET /alerts/ID.cap`: one alert as CAP 1.2.
    func alertCAP(_ file: String) async -> Response {
        guard file.hasSuffix(".cap"), let id = Int64(file.dropLast(4)), id > 0 else {
            return json(SensorsError(.notFound, "alerts are at /alerts/ID.cap").body, status: 404)
        }
        do {
            guard let document = try await AlertDocument.load(id, store: store, configuration: configuration) else {
                return json(SensorsError(.notFound, "no alert \(id)").body, status: 404)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/cap+xml; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: document.cap)))
        } catch {
            logger.error("alerts: CAP of \(id) failed: \(error)")
            return json(SensorsError(.internalError, "internal error").body, status: 500)
        }
    }

    /// `POST /alerts/ID/acknowledge` with the admin token and optionally `{"by": "name"}`: someone
    /// took care of it. Acknowledging twice keeps the first.
    func acknowledge(_ request: Request, id text: String) async -> Response {
        do {
            try authorize(request)
            guard let id = Int64(text), id > 0 else { throw SensorsError(.notFound, "no alert \(text)") }
            let body = try await self.body(of: request)
            let by = body["by"]?.string.map { String($0.prefix(200)) } ?? "operator"
            let updated = try await store.pool.withWriter { connection in
                try connection.execute(
                    "UPDATE alerts SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND acknowledged_at IS NULL",
                    [.integer(id), .integer(now()), .text(by)])
                return try connection.execute("SELECT 1 FROM alerts WHERE id = $1", [.integer(id)]).count
            }
            guard updated == 1,
                let document = try await AlertDocument.load(id, store: store, configuration: configuration)
            else { throw SensorsError(.notFound, "no alert \(id)") }
            return json(JSONValue.object(document.json).text, status: 200)
        } catch let error as SensorsError {
            return json(error.body, status: error.kind.status)
        } catch {
            logger.error("alerts: acknowledging \(text) failed: \(error)")
            return json(SensorsError(.internalError, "internal error").body, status: 500)
        }
    }
}

/// Takes the uplinks that arrive over MQTT one after another.
struct UplinkService: Service {
    let uplinks: AsyncStream<MQTTClient.Message>
    let ingestor: Ingestor
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await message in uplinks {
                guard let format = Uplink.Format(topic: message.topic) else { continue }
                do {
                    _ = try await ingestor.ingest(message.payload, format: format, source: "mqtt")
                } catch {
                    logger.error("ingest: an uplink from MQTT could not be stored: \(error)")
                }
            }
        }
    }
}

/// Runs the MQTT client for as long as the service runs; at the end, sends what is queued and
/// disconnects.
struct MQTTService: Service {
    let client: MQTTClient

    func run() async throws {
        client.start()
        try? await gracefulShutdown()
        await client.stop()
    }
}

/// Deletes observations older than the retention time and reduces raw ones past their Datastream's
/// `raw_days`: once at start, before the server answers, then every hour.
struct RetentionService: Service {
    let store: SensorStore
    let retentionSeconds: Int64
    let logger: Logger
    let now: @Sendable () -> Int64

    /// The server runs one pass before it serves; this service the ones after, every hour.
    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await gracefulShutdownSleep(for: .seconds(3600))
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            await pass()
        }
    }

    func pass() async {
        do {
            let deleted = try await store.deleteObservations(before: now() - retentionSeconds * 1000)
            if deleted > 0 {
                logger.info("retention: deleted \(deleted) observation(s) older than the retention time")
            }
            let reduced = try await store.reduceRawObservations(now: now())
            if reduced.deleted > 0 {
                logger.info(
                    "retention: \(reduced.deleted) raw observation(s) past their Datastream's raw_days reduced to \(reduced.aggregates) hourly aggregate(s)"
                )
            }
        } catch {
            logger.error("retention: \(error)")
        }
    }

    private func gracefulShutdownSleep(for duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}
