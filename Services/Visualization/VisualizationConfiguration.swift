import Foundation
import SensorThings
package import ServiceSupport

/// The visualization service's configuration file (`visualization.yaml`, rendered by the agent
/// from the blueprint).
package struct VisualizationConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// The address visitors use; links in pages start with it.
    package var publicURL: String
    /// The path of `publicURL` (`/grafiken` behind a site's proxy, or empty): every link in a page
    /// starts with it, so pages work under a path prefix as well as at a host's root.
    package var pathPrefix: String {
        guard let scheme = publicURL.range(of: "://"),
            let slash = publicURL[scheme.upperBound...].firstIndex(of: "/")
        else { return "" }
        return String(publicURL[slash...])
    }
    /// The sensor service (without `/v1.1`), as this service reaches it.
    package var sensorsURL: String
    package var sourceTimeoutSeconds: Int64
    /// How long browsers and proxies may keep a chart, and how long it is kept here.
    package var cacheSeconds: Int64
    package var theme: String
    package var logLevel: String
    /// The overview's heading.
    package var title: String
    /// The municipality's outline for the overview map: rings of longitude/latitude pairs.
    package var outline: [[(Double, Double)]]
    /// The site's dashboards, from the file `dashboards` names.
    package var dashboards: DashboardFile
    /// The portal whose dataset pages (`…/dataset/NAME`) panels with a dataset link to.
    package var portalURL: String?
    /// The catalog's CKAN API as this service reaches it (without `/api/3`): the titles of the
    /// datasets panels link.
    package var catalogURL: String?

    package init(
        host: String, port: Int, publicURL: String, sensorsURL: String, sourceTimeoutSeconds: Int64 = 5,
        cacheSeconds: Int64 = 60, theme: String = "hell", logLevel: String = "info", title: String = "Pegelübersicht",
        outline: [[(Double, Double)]] = [], dashboards: DashboardFile = DashboardFile(), portalURL: String? = nil,
        catalogURL: String? = nil
    ) {
        self.title = title
        self.outline = outline
        self.dashboards = dashboards
        func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        self.host = host
        self.port = port
        self.publicURL = trimmed(publicURL)
        self.sensorsURL = trimmed(sensorsURL)
        self.portalURL = portalURL.map(trimmed)
        self.catalogURL = catalogURL.map(trimmed)
        self.sourceTimeoutSeconds = sourceTimeoutSeconds
        self.cacheSeconds = cacheSeconds
        self.theme = theme
        self.logLevel = logLevel
    }

    private struct File: Decodable {
        var listen: ServiceListen
        var publicUrl: String
        var sensorsUrl: String
        var sourceTimeout: String?
        var cacheFor: String?
        var theme: String?
        var logLevel: String?
        var title: String?
        var outline: String?
        var dashboards: String?
        var portalUrl: String?
        var catalogUrl: String?

        enum CodingKeys: String, CodingKey {
            case listen, theme, title, outline, dashboards
            case portalUrl = "portal_url"
            case catalogUrl = "catalog_url"
            case publicUrl = "public_url"
            case sensorsUrl = "sensors_url"
            case sourceTimeout = "source_timeout"
            case cacheFor = "cache_for"
            case logLevel = "log_level"
        }
    }

    static let themes = ["hell", "dunkel", "kontrast"]

    /// Reads `path`; a missing key, a wrong type or a value out of range is one line naming it.
    package static func load(_ path: String) throws(ServiceStartError) -> VisualizationConfiguration {
        let file = try ServiceConfigurationFile.decode(File.self, from: path)
        try file.listen.check(in: path)
        for (key, url) in [("public_url", file.publicUrl), ("sensors_url", file.sensorsUrl)]
            + (file.portalUrl.flatMap { $0.isEmpty ? nil : [("portal_url", $0)] } ?? [])
            + (file.catalogUrl.flatMap { $0.isEmpty ? nil : [("catalog_url", $0)] } ?? [])
        where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ServiceStartError("\(path): \(key) '\(url)' is not an http(s) URL")
        }
        let cache = file.cacheFor ?? "1m"
        guard let cacheSeconds = ServiceConfigurationFile.seconds(cache), (0...3600).contains(cacheSeconds) else {
            throw ServiceStartError("\(path): cache_for '\(cache)' is not a duration from 0s to 1h")
        }
        let timeout = file.sourceTimeout ?? "5s"
        guard let timeoutSeconds = ServiceConfigurationFile.seconds(timeout), (1...120).contains(timeoutSeconds) else {
            throw ServiceStartError("\(path): source_timeout '\(timeout)' is not a duration from 1s to 2m")
        }
        let theme = file.theme ?? "hell"
        guard themes.contains(theme) else {
            throw ServiceStartError("\(path): theme '\(theme)' is not one of \(themes.joined(separator: ", "))")
        }
        var outline: [[(Double, Double)]] = []
        if let file = file.outline, !file.isEmpty {
            outline = try Self.outline(file, in: path)
        }
        var dashboards = DashboardFile()
        if let name = file.dashboards, !name.isEmpty {
            do {
                dashboards = try DashboardParser.load(name)
            } catch {
                throw ServiceStartError(error.description)
            }
        }
        let title = file.title ?? ""
        return VisualizationConfiguration(
            host: file.listen.host, port: file.listen.port, publicURL: file.publicUrl, sensorsURL: file.sensorsUrl,
            sourceTimeoutSeconds: timeoutSeconds, cacheSeconds: cacheSeconds, theme: theme,
            logLevel: file.logLevel ?? "info", title: title.isEmpty ? "Pegelübersicht" : String(title.prefix(200)),
            outline: outline, dashboards: dashboards, portalURL: file.portalUrl.flatMap { $0.isEmpty ? nil : $0 },
            catalogURL: file.catalogUrl.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The rings of a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection (relative paths
    /// from the working folder); at most 4 MiB and 100,000 points, so a wrong file cannot stall a page.
    static func outline(_ file: String, in path: String) throws(ServiceStartError) -> [[(Double, Double)]] {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw ServiceStartError("\(path): outline '\(file)' cannot be read")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4 << 20 + 1)) ?? Data()
        guard data.count <= 4 << 20 else { throw ServiceStartError("\(path): outline '\(file)' is larger than 4 MiB") }
        guard let document = try? JSONParser.parse(Array(data)) else {
            throw ServiceStartError("\(path): outline '\(file)' is not JSON")
        }
        var rings: [[(Double, Double)]] = []
        var points = 0
        func ring(_ value: JSONValue) throws(ServiceStartError) {
            guard case .array(let positions) = value else { return }
            var ring: [(Double, Double)] = []
            for position in positions {
                guard case .array(let pair) = position, pair.count >= 2, let longitude = pair[0].double,
                    let latitude = pair[1].double, (-180...180).contains(longitude), (-90...90).contains(latitude)
                else {
                    throw ServiceStartError("\(path): outline '\(file)' has a position that is not longitude, latitude")
                }
                ring.append((longitude, latitude))
            }
            points += ring.count
            guard points <= 100_000 else {
                throw ServiceStartError("\(path): outline '\(file)' has more than 100000 points")
            }
            rings.append(ring)
        }
        func walk(_ value: JSONValue, depth: Int) throws(ServiceStartError) {
            guard depth < 8 else { return }
            switch value["type"]?.string {
            case "FeatureCollection":
                if case .array(let features)? = value["features"] {
                    for feature in features { try walk(feature, depth: depth + 1) }
                }
            case "Feature": try walk(value["geometry"] ?? .null, depth: depth + 1)
            case "Polygon":
                if case .array(let list)? = value["coordinates"] { for item in list { try ring(item) } }
            case "MultiPolygon":
                if case .array(let polygons)? = value["coordinates"] {
                    for polygon in polygons {
                        if case .array(let list) = polygon { for item in list { try ring(item) } }
                    }
                }
            default: break
            }
        }
        try walk(document, depth: 0)
        guard !rings.isEmpty else {
            throw ServiceStartError("\(path): outline '\(file)' holds no Polygon or MultiPolygon")
        }
        return rings
    }
}
