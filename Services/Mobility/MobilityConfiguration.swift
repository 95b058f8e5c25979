import Foundation
package import ServiceSupport

/// The mobility service's configuration file (`mobility.yaml`, rendered by the agent from the
/// blueprint).
package struct MobilityConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// The address clients use; links in answers start with it.
    package var publicURL: String
    /// `sqlite:PATH` (relative to the working folder) or a `postgres://` URL.
    package var database: String
    /// Where each feed version's archive is kept for republication.
    package var feedsFolder: String
    /// The token that allows imports (`POST /api/gtfs/feeds`) as `Authorization: Bearer …`; empty
    /// (the default) means nobody may import over HTTP.
    package var adminToken: String
    /// The largest GTFS archive taken over HTTP, in bytes.
    package var maximumUploadBytes: Int
    /// GTFS-Realtime sources (URLs of FeedMessages with trip updates, alerts or both).
    package var realtimeSources: [String]
    /// Seconds between two fetches of every source.
    package var realtimeInterval: Int
    /// Seconds after which a source's data is stale.
    package var realtimeStaleAfter: Int
    /// Whether the service makes up GTFS-Realtime of its own at `/synthetic/gtfs-rt.pb` (sandboxes).
    package var syntheticRealtime: Bool
    package var logLevel: String

    package init(
        host: String, port: Int, publicURL: String, database: String, feedsFolder: String, adminToken: String = "",
        maximumUploadBytes: Int = 512 << 20, realtimeSources: [String] = [], realtimeInterval: Int = 30,
        realtimeStaleAfter: Int = 120, syntheticRealtime: Bool = false, logLevel: String = "info"
    ) {
        self.syntheticRealtime = syntheticRealtime
        self.realtimeSources = realtimeSources
        self.realtimeInterval = realtimeInterval
        self.realtimeStaleAfter = realtimeStaleAfter
        self.host = host
        self.port = port
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.database = database
        self.feedsFolder = feedsFolder
        self.adminToken = adminToken
        self.maximumUploadBytes = maximumUploadBytes
        self.logLevel = logLevel
    }

    private struct File: Decodable {
        var listen: ServiceListen
        var publicUrl: String
        var database: String
        var feedsFolder: String?
        var adminToken: String?
        var maxUploadMegabytes: Int?
        var logLevel: String?
        struct Realtime: Decodable {
            var sources: String?
            var interval: String?
            var staleAfter: String?
            var synthetic: Bool?

            enum CodingKeys: String, CodingKey {
                case sources, interval, synthetic
                case staleAfter = "stale_after"
            }
        }
        var realtime: Realtime?

        enum CodingKeys: String, CodingKey {
            case listen, database, realtime
            case publicUrl = "public_url"
            case feedsFolder = "feeds_folder"
            case adminToken = "admin_token"
            case maxUploadMegabytes = "max_upload_megabytes"
            case logLevel = "log_level"
        }
    }

    package static func load(_ path: String) throws(ServiceStartError) -> MobilityConfiguration {
        let file = try ServiceConfigurationFile.decode(File.self, from: path)
        try ServiceDatabase.checkLocation(file.database, in: path)
        try file.listen.check(in: path)
        let megabytes = file.maxUploadMegabytes ?? 512
        guard (1...1024).contains(megabytes) else {
            throw ServiceStartError("\(path): max_upload_megabytes \(megabytes) is not between 1 and 1024")
        }
        let level = file.logLevel ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw ServiceStartError(
                "\(path): log_level '\(level)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        let sources = (file.realtime?.sources ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        for source in sources
        where !(source.hasPrefix("http://") || source.hasPrefix("https://")) || source.utf8.count > 2000 {
            throw ServiceStartError(
                "\(path): realtime.sources: '\(source.prefix(80))' is not an http:// or https:// URL")
        }
        func seconds(
            _ text: String?, _ key: String, default value: Int, in range: ClosedRange<Int64>
        ) throws(ServiceStartError) -> Int {
            guard let text else { return value }
            guard let seconds = ServiceConfigurationFile.seconds(text), range.contains(seconds) else {
                throw ServiceStartError(
                    "\(path): realtime.\(key) '\(text.prefix(40))' is not a duration from \(range.lowerBound)s to \(range.upperBound)s (as 30s, 2m)"
                )
            }
            return Int(seconds)
        }
        let interval = try seconds(file.realtime?.interval, "interval", default: 30, in: 1...3600)
        let stale = try seconds(
            file.realtime?.staleAfter, "stale_after", default: max(120, 4 * interval), in: 10...86_400)
        guard stale > interval else {
            throw ServiceStartError("\(path): realtime.stale_after must be longer than realtime.interval")
        }
        return MobilityConfiguration(
            host: file.listen.host, port: file.listen.port, publicURL: file.publicUrl, database: file.database,
            feedsFolder: file.feedsFolder ?? "data/gtfs", adminToken: file.adminToken ?? "",
            maximumUploadBytes: megabytes << 20, realtimeSources: sources, realtimeInterval: interval,
            realtimeStaleAfter: stale, syntheticRealtime: file.realtime?.synthetic ?? false, logLevel: level)
    }
}
