import Foundation
package import ServiceSupport

/// The visualization service's configuration file (`visualization.yaml`, rendered by the agent
/// from the blueprint).
package struct VisualizationConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// The address visitors use; links in pages start with it.
    package var publicURL: String
    /// The sensor service (without `/v1.1`), as this service reaches it.
    package var sensorsURL: String
    package var sourceTimeoutSeconds: Int64
    /// How long browsers and proxies may keep a chart, and how long it is kept here.
    package var cacheSeconds: Int64
    package var theme: String
    package var logLevel: String

    package init(
        host: String, port: Int, publicURL: String, sensorsURL: String, sourceTimeoutSeconds: Int64 = 5,
        cacheSeconds: Int64 = 60, theme: String = "hell", logLevel: String = "info"
    ) {
        func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        self.host = host
        self.port = port
        self.publicURL = trimmed(publicURL)
        self.sensorsURL = trimmed(sensorsURL)
        self.sourceTimeoutSeconds = sourceTimeoutSeconds
        self.cacheSeconds = cacheSeconds
        self.theme = theme
        self.logLevel = logLevel
    }

    private struct File: Decodable {
        struct Listen: Decodable {
            var host: String
            var port: Int
        }
        var listen: Listen
        var publicUrl: String
        var sensorsUrl: String
        var sourceTimeout: String?
        var cacheFor: String?
        var theme: String?
        var logLevel: String?

        enum CodingKeys: String, CodingKey {
            case listen, theme
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
        guard (1...65535).contains(file.listen.port) else {
            throw ServiceStartError("\(path): listen.port \(file.listen.port) is not a TCP port")
        }
        for (key, url) in [("public_url", file.publicUrl), ("sensors_url", file.sensorsUrl)]
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
        return VisualizationConfiguration(
            host: file.listen.host, port: file.listen.port, publicURL: file.publicUrl, sensorsURL: file.sensorsUrl,
            sourceTimeoutSeconds: timeoutSeconds, cacheSeconds: cacheSeconds, theme: theme,
            logLevel: file.logLevel ?? "info")
    }
}
