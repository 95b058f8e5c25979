import Foundation
import HTTPTypes
import Hummingbird
package import Logging
import NIOCore
import ServiceSupport
import Telemetry

/// The portal over HTTP: server-rendered pages in German and English (`/en/…`, `/de/…`, or the
/// configured language without a prefix), one stylesheet of its own, `/health` and `/metrics`.
/// Every page is built from the catalog's CKAN API; when the catalog does not answer, the visitor
/// gets a clear page (503), not an error dump.
package struct PortalServer: Sendable {
    package let configuration: PortalConfiguration
    package let logger: Logger
    private let catalog: CatalogClient
    private let previews: PreviewFetcher
    /// Pages served by kind and status, for `/metrics`.
    private let pageCounts = Counters(labels: ["page", "status"])
    static let rows = 20

    /// Where pages may load images from: this origin, and the site's visualization service.
    var imageSources: String {
        ["'self'", configuration.visualizationURL.flatMap(PortalConfiguration.origin(of:))].compactMap { $0 }
            .joined(separator: " ")
    }

    package init(configuration: PortalConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        catalog = CatalogClient(baseURL: configuration.catalogAPI, timeout: configuration.catalogTimeoutSeconds)
        previews = PreviewFetcher(
            hosts: configuration.previewHosts, maxBytes: configuration.previewMaxBytes,
            timeout: configuration.previewTimeoutSeconds)
    }

    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        // Healthy while it serves: a catalog that does not answer is shown to visitors as a clear page.
        let router = ServiceHTTP.router(
            logger: logger,
            metrics: { page in
                page.counter(
                    "portal_pages_total", help: "Pages served, by kind and status.", samples: pageCounts.samples())
            })
        router.get("/static/portal.css") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: portalStylesheet(accent: configuration.look.accent))))
        }
        if let logo = configuration.look.logo {
            router.get("/static/logo.svg") { _, _ in
                Response(
                    status: .ok,
                    headers: [
                        .contentType: "image/svg+xml", .cacheControl: "public, max-age=3600",
                        // Opened by itself, the image may still run nothing and load nothing.
                        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
                        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                    ], body: ResponseBody(byteBuffer: ByteBuffer(string: logo)))
            }
        }
        for path in ["/static/icon.svg", "/favicon.ico"] {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "public, max-age=86400"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: portalIcon)))
            }
        }
        router.get("/") { request, _ in await self.page(request) }
        router.get("/**") { request, _ in await self.page(request) }
        try await ServiceHTTP.serve(
            router, host: configuration.host, port: configuration.port, name: "portal", logger: logger,
            onRunning: onRunning)
    }

    private func page(_ request: Request) async -> Response {
        var parts = request.uri.path.split(separator: "/").map(String.init)
        var language = configuration.language
        if let first = parts.first, let chosen = PortalLanguage(rawValue: first) {
            language = chosen
            parts.removeFirst()
        }
        let path = "/" + parts.joined(separator: "/")
        let query = request.uri.query ?? ""
        let pages = PortalPages(configuration: configuration, language: language, path: path, query: query)
        let parameters = request.uri.queryParameters
        let (status, html, kind): (Int, String, String)
        do {
            switch parts.count > 1 ? [parts[0], "*"] : parts {
            case []:
                async let newest = catalog.search([("sort", "metadata_modified desc"), ("rows", "5")])
                async let groups = catalog.groups()
                (status, html, kind) = (
                    200, pages.home(newest: try await newest.results, categories: try await groups), "home"
                )
            case ["dataset"]:
                (status, html, kind) = (200, try await search(pages, parameters), "search")
            case ["dataset", "*"]:
                let package = try await catalog.package(parts[1])
                // The first resource a preview can show (CSV, JSON, GeoJSON), fetched here, never by the browser.
                var preview: (CKANResource, PreviewFetcher.Outcome)?
                for resource in package.resources {
                    if let outcome = await previews.preview(of: resource) {
                        preview = (resource, outcome)
                        break
                    }
                }
                if case .failure(let reason)? = preview?.1 {
                    logger.info("no preview of \(preview?.0.url ?? ""): \(reason)")
                }
                (status, html, kind) = (200, pages.dataset(package, preview: preview), "dataset")
            case ["organization"]:
                (status, html, kind) = (200, pages.organizations(try await catalog.organizations()), "organizations")
            case ["organization", "*"]:
                let organization = try await catalog.organization(parts[1])
                let datasets = try await catalog.search([
                    ("fq", "organization:\"\(organization.name)\""), ("rows", "10"), ("sort", "metadata_modified desc"),
                ])
                (status, html, kind) = (200, pages.organization(organization, datasets: datasets), "organization")
            case ["impressum"], ["imprint"]: (status, html, kind) = (200, pages.imprint(), "imprint")
            case ["datenschutz"], ["privacy"]: (status, html, kind) = (200, pages.privacy(), "privacy")
            default: (status, html, kind) = (404, pages.notFound(), "not-found")
            }
        } catch is CatalogClient.NotFound {
            (status, html, kind) = (404, pages.notFound(), "not-found")
        } catch is CatalogClient.Refused {
            (status, html, kind) = (400, pages.refused(), "bad-request")
        } catch let error as CatalogClient.Unavailable {
            logger.warning("portal: the catalog does not answer: \(error.reason)")
            (status, html, kind) = (503, pages.unavailable(), "catalog-unavailable")
        } catch {
            logger.error("portal: \(request.uri.path): \(error)")
            (status, html, kind) = (503, pages.unavailable(), "catalog-unavailable")
        }
        pageCounts.add([kind, String(status)])
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [
                .contentType: "text/html; charset=utf-8", .contentLanguage: language.rawValue,
                // Nothing but this origin: no third-party scripts, fonts, frames or trackers.
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'self'; img-src \(imageSources); form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                HTTPField.Name("Referrer-Policy")!: "no-referrer", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    private func search(_ pages: PortalPages, _ parameters: Hummingbird.Parameters) async throws -> String {
        let q = (parameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        let sort =
            ["newest", "title"].contains(parameters.get("sort") ?? "") ? parameters.get("sort") ?? "" : "relevance"
        let page = max(1, min(parameters.get("page", as: Int.self) ?? 1, 10_000))
        var filters: [(field: String, value: String)] = []
        for field in PortalPages.facetFields {
            for value in parameters.getAll(field) where !value.isEmpty { filters.append((field, String(value))) }
        }
        let expanded = Set(PortalPages.facetFields.filter { parameters.get("_\($0)_limit") == "0" })
        let own = configuration.organizations
        let wholeCluster = own.isEmpty || parameters.get("scope") == "all"
        // Every value of each facet (a page shows ten, and all on "show all"); the catalog bounds it.
        var query: [(String, String)] = [
            ("rows", String(Self.rows)), ("start", String((page - 1) * Self.rows)),
            ("facet.field", #"["organization","groups","tags","res_format","license_id"]"#), ("facet.limit", "1000"),
            ("sort", sort == "newest" ? "metadata_modified desc" : sort == "title" ? "title_string asc" : "score desc"),
        ]
        if !q.isEmpty { query.append(("q", q)) }
        var fq = filters.map { "\($0.field):\"\($0.value.replacingOccurrences(of: "\"", with: ""))\"" }
        // The site's own organisations unless the visitor chose the whole cluster or an organisation.
        if !wholeCluster && !filters.contains(where: { $0.field == "organization" }) {
            fq.append("organization:(" + own.map { "\"\($0)\"" }.joined(separator: " OR ") + ")")
        }
        if !fq.isEmpty { query.append(("fq", fq.joined(separator: " "))) }
        async let searched = catalog.search(query)
        async let organizations = own.isEmpty ? [] : catalog.organizations()
        let titles = Dictionary(try await organizations.map { ($0.name, $0.title) }, uniquingKeysWith: { a, _ in a })
        return pages.search(
            PortalPages.Search(
                q: q, sort: sort, page: page, filters: filters, wholeCluster: wholeCluster, expanded: expanded),
            result: try await searched, rows: Self.rows, ownTitles: own.map { ($0, titles[$0] ?? $0) })
    }
}
