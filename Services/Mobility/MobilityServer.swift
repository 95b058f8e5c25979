import Foundation
package import Hummingbird
package import Logging
import ServiceLifecycle
import ServiceSupport
import SwiftProtobuf
import Telemetry

/// Why a mobility request failed; answered as `{"error": {"status": …, "message": …}}` (and the
/// feed's problems, each with file and line, when an import is refused).
enum MobilityError: Error {
    case noFeed
    case noRealtime
    case noParking
    case noCounts
    case noHistory
    case notFound(String)
    case badRequest(String)
    case unauthorized
    case tooLarge(Int)
    case refused(GTFSRefusal)

    var status: Int {
        switch self {
        case .noFeed, .noRealtime, .noParking, .noCounts, .noHistory, .notFound: 404
        case .badRequest: 400
        case .unauthorized: 401
        case .tooLarge: 413
        case .refused: 422
        }
    }

    var message: String {
        switch self {
        case .noFeed: "no GTFS feed has been imported yet"
        case .noRealtime: "no GTFS-Realtime source is configured (realtime.sources)"
        case .noParking: "no parking source is configured (parking.kaiserslautern_xml, parking.parkapi_sources)"
        case .noCounts: "no count source is configured (counts.sources)"
        case .noHistory: "no sensor service is configured to keep the history in (sensors.url, sensors.token)"
        case .notFound(let what): what
        case .badRequest(let what): what
        case .unauthorized: "importing needs the service's admin token (Authorization: Bearer …)"
        case .tooLarge(let limit): "the archive is larger than \(limit >> 20) MiB"
        case .refused(let refusal):
            "the feed was refused with \(refusal.problems.count + refusal.more) problem(s); the feed served before is still served"
        }
    }
}

/// The mobility service over HTTP: GTFS feed versions and their import, the served feed
/// republished as a zip, stops and their departure boards.
package struct MobilityServer: Sendable {
    let store: MobilityStore
    let configuration: MobilityConfiguration
    let logger: Logger
    let board: DepartureBoard
    let realtime: RealtimeFeeds?
    let parking: ParkingFeeds?
    let counts: CountFeeds?
    /// What the history publisher did, when a sensor service is configured.
    let history: HistoryStatus?
    let requests = Counters(labels: ["route", "status"])
    private let fetches = Counters(labels: ["outcome"])
    private let parkingFetches = Counters(labels: ["outcome"])
    private let countFetches = Counters(labels: ["outcome"])
    /// Rung after every import over HTTP, for the catalog registration.
    private let imported = Bell()
    /// Rung when a parking or count source gave new data, for the history publisher.
    private let taken = Bell()

    package init(store: MobilityStore, configuration: MobilityConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        realtime =
            configuration.realtimeSources.isEmpty
            ? nil
            : RealtimeFeeds(
                sources: configuration.realtimeSources, staleAfter: TimeInterval(configuration.realtimeStaleAfter))
        board = DepartureBoard(store: store, realtime: realtime)
        let parkingSources = configuration.parking.sources
        parking =
            parkingSources.isEmpty && !configuration.parking.synthetic
            ? nil : ParkingFeeds(sources: parkingSources, staleAfter: TimeInterval(configuration.parking.staleAfter))
        let counting = configuration.counts
        counts =
            counting.sources.isEmpty && !counting.synthetic
            ? nil : CountFeeds(sources: counting.sources, stations: counting.stations)
        history = configuration.sensors.map { HistoryStatus(sensors: $0.url) }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = ServiceHTTP.router(
            logger: logger,
            health: { [store] in
                do {
                    try await store.ping()
                    return nil
                } catch {
                    return "the store does not answer"
                }
            },
            metrics: { [store, requests] page in
                page.counter(
                    "mobility_requests_total", help: "Mobility API requests, by route and status.",
                    samples: requests.samples())
                if let realtime {
                    page.counter(
                        "mobility_realtime_fetches_total", help: "Fetches of GTFS-Realtime sources, by outcome.",
                        samples: fetches.samples())
                    let snapshot = realtime.current(at: Date())
                    page.gauge(
                        "mobility_realtime_stale", help: "1 while a GTFS-Realtime source has nothing current.",
                        value: snapshot.stale ? 1 : 0)
                }
                if let parking {
                    page.counter(
                        "mobility_parking_fetches_total", help: "Fetches of parking sources, by outcome.",
                        samples: parkingFetches.samples())
                    let sites = parking.sites(at: Date())
                    page.gauge("mobility_parking_sites", help: "Parking sites served.", value: Double(sites.count))
                    page.gauge(
                        "mobility_parking_sites_with_occupancy", help: "Parking sites served with current occupancy.",
                        value: Double(sites.filter { $0.realtime != nil }.count))
                }
                if counts != nil {
                    page.counter(
                        "mobility_count_fetches_total", help: "Fetches of traffic count sources, by outcome.",
                        samples: countFetches.samples())
                }
                if let history {
                    let snapshot = history.snapshot
                    page.gauge(
                        "mobility_history_readings_sent", help: "Readings the sensor service took since the start.",
                        value: Double(snapshot.readingsSent))
                    page.gauge(
                        "mobility_history_failing", help: "1 while the last sending to the sensor service failed.",
                        value: snapshot.lastError == nil ? 0 : 1)
                }
                if let feed = try? await store.servedFeed() {
                    page.gauge(
                        "mobility_gtfs_feed_version", help: "The GTFS feed version served.", value: Double(feed.version)
                    )
                    page.gauge(
                        "mobility_gtfs_stop_times", help: "Stop times in the served feed.",
                        value: Double(feed.stopTimes))
                }
            })
        routes(router)
        var services: [any Service] = []
        if let realtime {
            services.append(
                SourcePoller(
                    name: "realtime", sources: realtime.sources, interval: .seconds(configuration.realtimeInterval),
                    logger: logger, counts: fetches, bodyLimit: 32 << 20,
                    accept: { body, url, now in try realtime.accept(body, from: url, at: now) },
                    failed: { url, reason, now in realtime.failed(url, reason, at: now) }))
        }
        if let catalog = configuration.catalog {
            services.append(
                CatalogRegistration(
                    catalog: catalog, configuration: configuration, store: store, logger: logger,
                    imports: imported))
        }
        if let parking, !parking.sources.isEmpty {
            services.append(
                SourcePoller(
                    name: "parking", sources: parking.sources.map(\.url),
                    interval: .seconds(configuration.parking.interval), logger: logger, counts: parkingFetches,
                    bodyLimit: ParkAPIInput.byteLimit,
                    accept: { [taken] body, url, now in
                        try parking.accept(body, from: url, at: now)
                        taken.ring()
                    },
                    failed: { url, reason, now in parking.failed(url, reason, at: now) }))
        }
        if let counts, !counts.sources.isEmpty {
            services.append(
                SourcePoller(
                    name: "counts", sources: counts.sources, interval: .seconds(configuration.counts.interval),
                    logger: logger, counts: countFetches, bodyLimit: 16 << 20,
                    accept: { [taken] body, url, now in
                        try counts.accept(body, from: url, at: now)
                        taken.ring()
                    },
                    failed: { url, reason, now in counts.failed(url, reason, at: now) }))
        }
        if let sensors = configuration.sensors, let history, parking != nil || counts != nil {
            services.append(
                HistoryPublisher(
                    configuration: configuration, sensors: sensors, parking: parking, counts: counts, status: history,
                    logger: logger, news: taken))
        }
        try await ServiceHTTP.serve(
            router, host: configuration.host, port: configuration.port, name: "mobility", logger: logger,
            services: services, onRunning: onRunning)
    }

    /// The service's own routes on `router` (the tests run them in process).
    package func routes(_ router: Router<BasicRequestContext>) {
        router.get("/api/gtfs/feeds") { _, _ in
            try await answer("feeds") { ["feeds": try await store.feedVersions()] }
        }
        router.post("/api/gtfs/feeds") { request, _ in
            try await answer("import", status: 201) { ["feed": try await importFeed(request)] }
        }
        router.get("/gtfs/feed.zip") { _, _ in
            do {
                guard let feed = try await store.servedFeed() else { throw MobilityError.noFeed }
                let file = URL(fileURLWithPath: configuration.feedsFolder).appendingPathComponent(
                    MobilityStore.fileName(of: feed))
                let data = try Data(contentsOf: file, options: .alwaysMapped)
                requests.add(["feed.zip", "200"])
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "application/zip", .eTag: "\"\(feed.sha256)\"",
                        .contentDisposition: "attachment; filename=\"gtfs.zip\"",
                    ], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
            } catch let error as MobilityError {
                return failure(error, route: "feed.zip")
            }
        }
        router.get("/api/realtime") { _, _ in
            try await answer("realtime") { () -> [String: [RealtimeFeeds.Status]] in
                guard let realtime else { throw MobilityError.noRealtime }
                return ["sources": realtime.statuses(at: Date())]
            }
        }
        for (path, alerts) in [("trip-updates", false), ("service-alerts", true)] {
            router.get("/gtfs-rt/\(path).pb") { _, _ in
                guard let realtime else { return failure(.noRealtime, route: path) }
                requests.add([path, "200"])
                let message = realtime.current(at: Date()).message(alerts: alerts, at: Date())
                return Response(
                    status: .ok, headers: [.contentType: "application/x-protobuf"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try message.serializedBytes() as [UInt8])))
            }
            // The same as JSON (protobuf's JSON mapping), to read by eye, with whether it is stale.
            router.get("/gtfs-rt/\(path).json") { _, _ in
                guard let realtime else { return failure(.noRealtime, route: path) }
                requests.add([path, "200"])
                let snapshot = realtime.current(at: Date())
                let feed = try snapshot.message(alerts: alerts, at: Date()).jsonString()
                let body = "{\"stale\": \(snapshot.stale), \"feed\": \(feed)}"
                return Self.json(Data(body.utf8), status: 200)
            }
        }
        if configuration.syntheticRealtime {
            router.get("/synthetic/gtfs-rt.pb") { _, _ in
                let message = try await SyntheticRealtime(store: store).message(at: Date())
                requests.add(["synthetic", "200"])
                return Response(
                    status: .ok, headers: [.contentType: "application/x-protobuf"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try message.serializedBytes() as [UInt8])))
            }
        }
        parkingRoutes(router)
        countRoutes(router)
        router.get("/api/stops/{id}/departures") { request, context in
            try await answer("departures") { () -> DepartureBoard.Board in
                let id = context.parameters.get("id") ?? ""
                let query = request.uri.queryParameters
                let hours = try Self.bounded(query["hours"].map(String.init), name: "hours", in: 1...24, default: 2)
                let limit = try Self.bounded(query["limit"].map(String.init), name: "limit", in: 1...200, default: 20)
                var from = Date()
                if let text = query["at"].map(String.init) {
                    guard text.utf8.count <= 40, let at = ISO8601DateFormatter().date(from: text),
                        abs(at.timeIntervalSinceNow) < 366 * 86_400 * 10
                    else {
                        throw MobilityError.badRequest(
                            "at '\(text.prefix(40))' is not a time in ISO 8601 with its offset (2026-12-07T08:00:00+01:00)"
                        )
                    }
                    from = at
                }
                guard let board = try await board.board(stopID: id, from: from, hours: hours, limit: limit) else {
                    throw MobilityError.notFound("the served feed has no stop '\(id.prefix(80))'")
                }
                return board
            }
        }
    }

    /// A whole number from a query parameter, within `range`.
    static func bounded(_ text: String?, name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text else { return value }
        guard text.utf8.count <= 6, let number = Int(text), range.contains(number) else {
            throw MobilityError.badRequest(
                "\(name) '\(text.prefix(40))' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// Reads the request body into a temporary file (at most the configured size) and imports it.
    private func importFeed(_ request: Request) async throws -> MobilityStore.FeedVersion {
        let authorization = request.headers[.authorization] ?? ""
        guard authorization.hasPrefix("Bearer "),
            AccessToken.matches(String(authorization.dropFirst("Bearer ".count)), configuration.adminToken)
        else { throw MobilityError.unauthorized }
        // Beside the kept archives (the same disk, not a small /tmp), in a folder of its own.
        let incoming = URL(fileURLWithPath: configuration.feedsFolder).appendingPathComponent(".incoming")
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        let upload = incoming.appendingPathComponent("\(UUID().uuidString).zip")
        _ = FileManager.default.createFile(atPath: upload.path, contents: nil, attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(at: upload) }
        let handle = try FileHandle(forWritingTo: upload)
        var received = 0
        do {
            for try await buffer in request.body {
                received += buffer.readableBytes
                guard received <= configuration.maximumUploadBytes else {
                    throw MobilityError.tooLarge(configuration.maximumUploadBytes)
                }
                try handle.write(contentsOf: Data(buffer.readableBytesView))
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        guard received > 0 else { throw MobilityError.badRequest("the request has no body: send the GTFS zip") }
        do {
            let feed = try await store.importFeed(
                upload, named: "upload", into: URL(fileURLWithPath: configuration.feedsFolder))
            imported.ring()
            logger.info(
                "gtfs: imported version \(feed.version) (\(feed.stops) stops, \(feed.trips) trips, \(feed.stopTimes) stop times)"
            )
            return feed
        } catch let refusal as GTFSRefusal {
            logger.warning("gtfs: an upload was refused with \(refusal.problems.count + refusal.more) problem(s)")
            throw MobilityError.refused(refusal)
        } catch let problem as GTFSError {
            throw MobilityError.refused(GTFSRefusal(problems: [problem], more: 0))
        }
    }

    /// Runs `body` and answers its value as JSON, or the error it threw.
    func answer<T: Encodable>(
        _ route: String, status: Int = 200, _ body: () async throws -> T
    ) async throws -> Response {
        do {
            let value = try await body()
            requests.add([route, String(status)])
            return Self.json(try Self.encoder.encode(value), status: status)
        } catch let error as MobilityError {
            return failure(error, route: route)
        }
    }

    func failure(_ error: MobilityError, route: String) -> Response {
        requests.add([route, String(error.status)])
        struct Envelope: Encodable {
            struct Problem: Encodable {
                var file: String
                var line: Int?
                var message: String
            }
            struct Body: Encodable {
                var status: Int
                var message: String
                var problems: [Problem]?
            }
            var error: Body
        }
        var problems: [Envelope.Problem]?
        if case .refused(let refusal) = error {
            problems = refusal.problems.map { Envelope.Problem(file: $0.file, line: $0.line, message: $0.message) }
        }
        let envelope = Envelope(error: .init(status: error.status, message: error.message, problems: problems))
        return Self.json((try? Self.encoder.encode(envelope)) ?? Data(), status: error.status)
    }

    static func json(_ data: Data, status: Int) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
