import Crypto
import Foundation
import HTTPTransport
import HTTPTypes
import Hummingbird
package import Logging
import NIOCore
import SensorThings
import ServiceSupport
import Synchronization
import Telemetry

/// The visualization service over HTTP: a datastream's chart as SVG, as CSV of the data drawn, and
/// as a page with the chart inline and a table; `/health` and `/metrics`. Charts come from the
/// sensor service's SensorThings API; when it does not answer, a placeholder stands in the chart's
/// place. Answers carry an ETag and a short max-age, and are kept here as long, so a rush of
/// visitors during a flood costs one rendering per chart and period.
package struct VisualizationServer: Sendable {
    package let configuration: VisualizationConfiguration
    package let logger: Logger
    let now: @Sendable () -> Int64
    /// The site's own sensor service, and those its dashboards name.
    let sources: [String: ChartSource]
    private let cache: RenderCache
    let datasetTitles: DatasetTitles
    private let charts = Counters(labels: ["format", "status", "cache"])

    package init(
        configuration: VisualizationConfiguration, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.now = now
        var sources: [String: ChartSource] = [:]
        for (name, url) in configuration.dashboards.sources.merging(
            [DashboardFile.ownSource: configuration.sensorsURL], uniquingKeysWith: { _, own in own })
        {
            sources[name] = ChartSource(
                name: name, url: url, timeout: .seconds(configuration.sourceTimeoutSeconds),
                cacheMilliseconds: configuration.cacheSeconds * 1000)
        }
        self.sources = sources
        cache = RenderCache(limit: 512)
        datasetTitles = DatasetTitles(
            catalogURL: configuration.catalogURL, timeout: .seconds(configuration.sourceTimeoutSeconds),
            lifetimeMilliseconds: configuration.cacheSeconds * 1000)
    }

    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = ServiceHTTP.router(
            logger: logger,
            metrics: { page in
                page.counter(
                    "visualization_charts_total",
                    help: "Charts answered, by format, status and whether from the cache.",
                    samples: charts.samples())
            })
        router.get("/static/visualization.css") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: VisualizationPage.stylesheet)))
        }
        for path in ["/static/icon.svg", "/favicon.ico"] {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "public, max-age=86400"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: VisualizationPage.icon)))
            }
        }
        router.get("/datastreams/:file") { request, context in
            let file = context.parameters.get("file") ?? ""
            return await self.answer(request, file: file) { query, now in
                await self.render(file: file, query: query, now: now)
            }
        }
        router.get("/") { request, _ in
            await self.answer(request, file: "") { query, now in await self.render(file: "", query: query, now: now) }
        }
        router.get("/overview.svg") { request, _ in
            await self.answer(request, file: "overview.svg") { query, now in
                await self.render(file: "overview.svg", query: query, now: now)
            }
        }
        router.get("/dashboards") { request, _ in
            await self.answer(request, file: "") { query, now in self.dashboardList(query: query, now: now) }
        }
        router.get("/dashboards/:dashboard") { request, context in
            let id = context.parameters.get("dashboard") ?? ""
            return await self.answer(request, file: "") { query, now in
                await self.dashboard(id, query: query, now: now)
            }
        }
        router.get("/dashboards/:dashboard/panel/:file") { request, context in
            let id = context.parameters.get("dashboard") ?? ""
            let file = context.parameters.get("file") ?? ""
            return await self.answer(request, file: file) { query, now in
                await self.panel(file, of: id, query: query, now: now)
            }
        }
        try await ServiceHTTP.serve(
            router, host: configuration.host, port: configuration.port, name: "visualization", logger: logger,
            onRunning: onRunning)
    }

    /// One rendered answer, as kept in the cache.
    struct Rendered: Sendable {
        var status: Int
        var contentType: String
        var body: String
        var etag: String
        var expires: Int64
        /// What browsers are told they may keep it, when shorter than the configured time.
        var maxAge: Int64? = nil
    }

    /// Answers from the cache, or with what `render` draws; `file` tells the format for the metrics.
    private func answer(
        _ request: Request, file: String,
        render: (_ query: [(String, String)], _ now: Int64) async -> Rendered
    ) async -> Response {
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let key = request.uri.path + "?" + (request.uri.query ?? "")
        let moment = now()
        var fromCache = true
        let rendered: Rendered
        if let kept = cache.get(key, now: moment) {
            rendered = kept
        } else {
            fromCache = false
            rendered = await render(query, moment)
            cache.put(key, rendered, now: moment)
        }
        charts.add([
            file.hasSuffix(".svg") ? "svg" : file.hasSuffix(".csv") ? "csv" : "html", String(rendered.status),
            fromCache ? "hit" : "miss",
        ])
        var headers: HTTPFields = [
            .contentType: rendered.contentType, .eTag: rendered.etag,
            .cacheControl: rendered.status == 200
                ? "public, max-age=\(rendered.maxAge ?? configuration.cacheSeconds)" : "no-store",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if rendered.contentType.hasPrefix("text/html") {
            headers[.contentSecurityPolicy] =
                "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
        }
        if rendered.status == 200,
            request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == rendered.etag
            }) == true
        {
            return Response(status: .notModified, headers: headers)
        }
        return Response(
            status: HTTPResponse.Status(code: rendered.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: rendered.body)))
    }

    /// Renders a chart, or the placeholder that says why there is none; never throws.
    func render(file: String, query: [(String, String)], now: Int64) async -> Rendered {
        let theme = ChartTheme.named(configuration.theme)
        if file.isEmpty || file == "overview.svg" {
            return await overview(svg: !file.isEmpty, query: query, theme: theme, now: now)
        }
        let request: ChartRequest
        do {
            request = try ChartRequest(file: file, query: query, now: now)
        } catch {
            return placeholder(
                status: 400, format: file.hasSuffix(".csv") ? .csv : file.hasSuffix(".svg") ? .svg : .html,
                title: "Ungültige Anfrage / Bad request", message: error.message, theme: theme, now: now,
                cacheSeconds: 0)
        }
        let words = PlaceholderWords(language: request.language)
        do throws(SensorSource.Failure) {
            guard let source = sources[DashboardFile.ownSource] else { throw .unavailable("no sensor service") }
            let datastream = try await source.datastream(.id(request.datastream))
            let readings = try await source.readings(
                request.datastream, from: request.start, to: request.end, now: now)
            let chart = TimeSeriesChart(
                series: TimeSeriesChart.Series(
                    title: datastream.name, unit: datastream.unit, readings: readings, levels: datastream.levels,
                    low: datastream.low, expectedInterval: datastream.expectedInterval),
                start: request.start, end: request.end, rangeName: request.rangeName, now: now,
                language: request.language, theme: theme, id: "ds\(request.datastream)", frame: request.frame)
            let (body, type): (String, String)
            switch request.format {
            case .svg: (body, type) = (chart.svg(), "image/svg+xml; charset=utf-8")
            case .csv: (body, type) = (chart.csv(), "text/csv; charset=utf-8")
            case .html:
                let page = VisualizationPage(
                    request: request, datastream: datastream, chart: chart, prefix: configuration.pathPrefix)
                (body, type) = (page.html(), "text/html; charset=utf-8")
            }
            return Rendered(
                status: 200, contentType: type, body: body, etag: Self.etag(body),
                expires: now + configuration.cacheSeconds * 1000)
        } catch {
            switch error {
            case .notFound, .ambiguous:
                return placeholder(
                    status: 404, format: request.format, title: words.notFoundTitle,
                    message: words.notFound(request.datastream), theme: theme, now: now, cacheSeconds: 0)
            case .tooMany(let count):
                return placeholder(
                    status: 422, format: request.format, title: words.tooManyTitle, message: words.tooMany(count),
                    theme: theme, now: now, cacheSeconds: 0)
            case .unavailable(let reason):
                logger.warning("visualization: the sensor service does not answer: \(reason)")
                // Kept briefly, so a rush does not hammer a source that is down.
                return placeholder(
                    status: 503, format: request.format, title: words.unavailableTitle, message: words.unavailable,
                    theme: theme, now: now, cacheSeconds: 5)
            }
        }
    }

    /// The overview of every gauge: the page at `/`, the map at `/overview.svg`.
    func overview(svg: Bool, query: [(String, String)], theme: ChartTheme, now: Int64) async -> Rendered {
        let format: ChartRequest.Format = svg ? .svg : .html
        let language: ChartLanguage
        let frame: ChartFrame
        do {
            language = try ChartRequest.language(in: query)
            frame = try ChartRequest.frame(in: query)
        } catch {
            return placeholder(
                status: 400, format: format, title: "Ungültige Anfrage / Bad request", message: error.message,
                theme: theme, now: now, cacheSeconds: 0)
        }
        do {
            guard let source = sources[DashboardFile.ownSource] else { throw SensorSource.Failure.unavailable("none") }
            let gauges = try await source.sensors.gauges(now: now)
            let map = OverviewMap(
                gauges: gauges, outline: configuration.outline, title: configuration.title, language: language,
                theme: theme, narrow: svg && frame == .narrow)
            let (body, type) =
                svg
                ? (map.svg(), "image/svg+xml; charset=utf-8")
                : (
                    OverviewPage(
                        gauges: gauges, map: map, language: language, dashboards: configuration.dashboards.dashboards,
                        prefix: configuration.pathPrefix
                    ).html(), "text/html; charset=utf-8"
                )
            return Rendered(
                status: 200, contentType: type, body: body, etag: Self.etag(body),
                expires: now + configuration.cacheSeconds * 1000)
        } catch {
            logger.warning("visualization: the sensor service does not answer: \(error)")
            let words = PlaceholderWords(language: language)
            return placeholder(
                status: 503, format: format, title: words.unavailableTitle, message: words.unavailable, theme: theme,
                now: now, cacheSeconds: 5)
        }
    }

    func placeholder(
        status: Int, format: ChartRequest.Format, title: String, message: String, theme: ChartTheme, now: Int64,
        cacheSeconds: Int64
    ) -> Rendered {
        let (body, type): (String, String)
        switch format {
        case .svg:
            (body, type) = (
                Placeholder.svg(title: title, message: message, theme: theme), "image/svg+xml; charset=utf-8"
            )
        case .csv: (body, type) = (message + "\n", "text/plain; charset=utf-8")
        case .html:
            (body, type) = (
                VisualizationPage.message(title: title, text: message, prefix: configuration.pathPrefix),
                "text/html; charset=utf-8"
            )
        }
        return Rendered(
            status: status, contentType: type, body: body, etag: Self.etag(body), expires: now + cacheSeconds * 1000)
    }

    /// A strong validator from the bytes themselves: the same chart is the same ETag on every instance.
    static func etag(_ body: String) -> String {
        "\"" + SHA256.hash(data: Data(body.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
    }
}

/// Rendered answers by request, kept until they expire; the oldest go when it is full.
final class RenderCache: Sendable {
    private let entries = Mutex<[String: VisualizationServer.Rendered]>([:])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func get(_ key: String, now: Int64) -> VisualizationServer.Rendered? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.expires > now else { return nil }
            return entry
        }
    }

    /// Keeps `rendered` unless it expires at once (placeholders that must not be cached).
    func put(_ key: String, _ rendered: VisualizationServer.Rendered, now: Int64) {
        guard rendered.expires > now else { return }
        entries.withLock { entries in
            if entries.count >= limit {
                let oldest = entries.sorted { $0.value.expires < $1.value.expires }.prefix(limit / 4).map(\.key)
                for key in oldest { entries[key] = nil }
            }
            entries[key] = rendered
        }
    }
}

/// The placeholders' words.
struct PlaceholderWords {
    var language: ChartLanguage

    var notFoundTitle: String { language == .de ? "Datenstrom nicht gefunden" : "Datastream not found" }
    func notFound(_ id: Int64) -> String {
        language == .de
            ? "Den Datenstrom \(id) gibt es beim Sensordienst nicht."
            : "The sensor service has no datastream \(id)."
    }
    func notFound(_ query: Panel.DatastreamQuery) -> String {
        switch query {
        case .id(let id): return notFound(id)
        case .name(let name):
            return language == .de
                ? "Einen Datenstrom „\(name)“ gibt es beim Sensordienst nicht."
                : "The sensor service has no datastream called “\(name)”."
        }
    }
    var ambiguousTitle: String { language == .de ? "Datenstrom nicht eindeutig" : "Datastream not unique" }
    func ambiguous(_ name: String) -> String {
        language == .de
            ? "Mehrere Datenströme heißen „\(name)“; das Dashboard muss einen per Nummer wählen."
            : "Several datastreams are called “\(name)”; the dashboard must choose one by its number."
    }
    var tooManyTitle: String { language == .de ? "Zeitraum zu lang" : "Period too long" }
    func tooMany(_ count: Int) -> String {
        language == .de
            ? "\(count) Messwerte – bitte einen kürzeren Zeitraum wählen (höchstens \(SensorSource.readingLimit))."
            : "\(count) readings – please choose a shorter period (at most \(SensorSource.readingLimit))."
    }
    var unavailableTitle: String { language == .de ? "Daten derzeit nicht erreichbar" : "Data currently unavailable" }
    var unavailable: String {
        language == .de
            ? "Der Sensordienst antwortet gerade nicht. Bitte in einigen Minuten erneut versuchen."
            : "The sensor service does not answer right now. Please try again in a few minutes."
    }
}
