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
    /// The parking sources: Kaiserslautern's XML feed with the site's parking file, ParkAPI v3 JSON.
    package var parking = Parking()
    /// The data catalog the service lists its datasets in, when one is configured.
    package var catalog: Catalog?
    /// The sensor service the history of parking occupancy and traffic counts is kept in, when one
    /// is configured.
    package var sensors: Sensors?
    /// The counting stations and the feeds of their counts.
    package var counts = Counts()

    package struct Sensors: Sendable {
        /// Without `/v1.1`.
        package var url: String
        /// The sensor service's admin token (its writes need it).
        package var token: String
        /// Seconds between two sendings.
        package var interval = 60

        package init(url: String, token: String, interval: Int = 60) {
            self.url = url
            self.token = token
            self.interval = interval
        }
    }

    package struct Counts: Sendable {
        /// The stations file's stations, by id.
        package var stations: [String: CountingStation] = [:]
        /// URLs of count feeds (CSV, format in docs/services/mobility.md).
        package var sources: [String] = []
        package var interval = 900
        /// Counts from 1 to this − 1 are stored suppressed by the sensor service.
        package var minimumCount = 5
        /// Whether the service makes up counts for its stations at `/synthetic/counts.csv` (sandboxes).
        package var synthetic = false

        package init() {}
    }

    package struct Catalog: Sendable {
        package var url: String
        package var token: String
        package var organization: String
        package var license: String
        package var datasetPrefix: String
    }

    package struct Parking: Sendable {
        package var kaiserslauternXML: String?
        /// The parking file's sites, by the feed's names (read when the configuration is loaded).
        package var sites: [String: ParkingSite] = [:]
        package var parkAPISources: [String] = []
        package var interval = 300
        package var staleAfter = 1800
        /// Whether the service makes up a Kaiserslautern feed over the parking file at
        /// `/synthetic/parking/kaiserslautern.xml` (sandboxes).
        package var synthetic = false

        package init() {}

        package var sources: [ParkingFeeds.Source] {
            (kaiserslauternXML.map { [ParkingFeeds.Source(url: $0, kind: .kaiserslauternXML(sites: sites))] } ?? [])
                + parkAPISources.map { ParkingFeeds.Source(url: $0, kind: .parkAPI) }
        }
    }
    package var logLevel: String

    package init(
        host: String, port: Int, publicURL: String, database: String, feedsFolder: String, adminToken: String = "",
        maximumUploadBytes: Int = 512 << 20, realtimeSources: [String] = [], realtimeInterval: Int = 30,
        realtimeStaleAfter: Int = 120, syntheticRealtime: Bool = false, parking: Parking = Parking(),
        catalog: Catalog? = nil, sensors: Sensors? = nil, counts: Counts = Counts(), logLevel: String = "info"
    ) {
        self.catalog = catalog
        self.sensors = sensors
        self.counts = counts
        self.parking = parking
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
        struct Parking: Decodable {
            var kaiserslauternXml: String?
            var sites: String?
            var parkapiSources: String?
            var interval: String?
            var staleAfter: String?
            var synthetic: Bool?

            enum CodingKeys: String, CodingKey {
                case sites, interval, synthetic
                case kaiserslauternXml = "kaiserslautern_xml"
                case parkapiSources = "parkapi_sources"
                case staleAfter = "stale_after"
            }
        }
        var parking: Parking?
        struct Catalog: Decodable {
            var url: String?
            var token: String?
            var organization: String?
            var license: String?
            var datasetPrefix: String?

            enum CodingKeys: String, CodingKey {
                case url, token, organization, license
                case datasetPrefix = "dataset_prefix"
            }
        }
        var catalog: Catalog?
        struct Sensors: Decodable {
            var url: String?
            var token: String?
            var interval: String?
        }
        var sensors: Sensors?
        struct Counts: Decodable {
            var stations: String?
            var sources: String?
            var interval: String?
            var minCount: Int?
            var synthetic: Bool?

            enum CodingKeys: String, CodingKey {
                case stations, sources, interval, synthetic
                case minCount = "min_count"
            }
        }
        var counts: Counts?

        enum CodingKeys: String, CodingKey {
            case listen, database, realtime, parking, catalog, sensors, counts
            case publicUrl = "public_url"
            case feedsFolder = "feeds_folder"
            case adminToken = "admin_token"
            case maxUploadMegabytes = "max_upload_megabytes"
            case logLevel = "log_level"
        }
    }

    /// When a file was last changed (the parking file's sites are as old as it).
    static func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? Date()
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
        func urls(_ text: String?, _ key: String) throws(ServiceStartError) -> [String] {
            let urls = (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            for url in urls where !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.utf8.count > 2000 {
                throw ServiceStartError("\(path): \(key): '\(url.prefix(80))' is not an http:// or https:// URL")
            }
            return urls
        }
        func seconds(
            _ text: String?, _ key: String, default value: Int, in range: ClosedRange<Int64>
        ) throws(ServiceStartError) -> Int {
            guard let text else { return value }
            guard let seconds = ServiceConfigurationFile.seconds(text), range.contains(seconds) else {
                throw ServiceStartError(
                    "\(path): \(key) '\(text.prefix(40))' is not a duration from \(range.lowerBound)s to \(range.upperBound)s (as 30s, 2m)"
                )
            }
            return Int(seconds)
        }
        let sources = try urls(file.realtime?.sources, "realtime.sources")
        let interval = try seconds(file.realtime?.interval, "realtime.interval", default: 30, in: 1...3600)
        let stale = try seconds(
            file.realtime?.staleAfter, "realtime.stale_after", default: max(120, 4 * interval), in: 10...86_400)
        guard stale > interval else {
            throw ServiceStartError("\(path): realtime.stale_after must be longer than realtime.interval")
        }
        // Relative to the configuration's folder, as the agent renders them side by side.
        func beside(_ name: String) -> String {
            name.hasPrefix("/")
                ? name : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name).path
        }
        var parking = Parking()
        if let section = file.parking {
            parking.kaiserslauternXML = try urls(section.kaiserslauternXml, "parking.kaiserslautern_xml").first
            parking.parkAPISources = try urls(section.parkapiSources, "parking.parkapi_sources")
            parking.synthetic = section.synthetic ?? false
            parking.interval = try seconds(section.interval, "parking.interval", default: 300, in: 10...86_400)
            parking.staleAfter = try seconds(
                section.staleAfter, "parking.stale_after", default: max(1800, 4 * parking.interval), in: 60...604_800)
            if let sites = section.sites, !sites.isEmpty {
                let file = beside(sites)
                do {
                    parking.sites = try ParkingSitesFile.load(file, updatedAt: Self.modified(file))
                } catch {
                    throw ServiceStartError(error.description)
                }
            }
            if parking.kaiserslauternXML != nil || parking.synthetic, parking.sites.isEmpty {
                throw ServiceStartError(
                    "\(path): parking.sites must name a parking file with the car parks: Kaiserslautern's feed has no positions"
                )
            }
        }
        var catalog: Catalog?
        // Listing datasets is a write: without a token there is nothing to do (the blueprint always
        // names the catalog it depends on).
        if let section = file.catalog, let url = try urls(section.url, "catalog.url").first,
            let token = section.token, !token.isEmpty
        {
            func name(
                _ value: String?, _ key: String, default fallback: String? = nil
            ) throws(ServiceStartError) -> String {
                let value = (value?.isEmpty == false ? value : nil) ?? fallback ?? ""
                guard (2...100).contains(value.count),
                    value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "-_./".contains($0)) })
                else {
                    throw ServiceStartError(
                        "\(path): \(key) '\(value.prefix(40))' must be 2 to 100 lowercase letters, digits, '-', '_', '.' or '/'"
                    )
                }
                return value
            }
            catalog = Catalog(
                url: url.hasSuffix("/") ? String(url.dropLast()) : url, token: token,
                organization: try name(section.organization, "catalog.organization"),
                license: try name(section.license, "catalog.license", default: "dl-by-de/2.0"),
                datasetPrefix: try name(section.datasetPrefix, "catalog.dataset_prefix", default: "mobilitaet"))
        }
        var sensors: Sensors?
        // Keeping history is a write: without a token there is nothing to do (the blueprint always
        // names the sensor service it depends on).
        if let section = file.sensors, let url = try urls(section.url, "sensors.url").first,
            let token = section.token, !token.isEmpty
        {
            sensors = Sensors(
                url: url.hasSuffix("/") ? String(url.dropLast()) : url, token: token,
                interval: try seconds(section.interval, "sensors.interval", default: 60, in: 5...3600))
        }
        var counts = Counts()
        if let section = file.counts {
            counts.sources = try urls(section.sources, "counts.sources")
            counts.synthetic = section.synthetic ?? false
            counts.interval = try seconds(section.interval, "counts.interval", default: 900, in: 10...86_400)
            counts.minimumCount = section.minCount ?? 5
            guard (2...1_000_000).contains(counts.minimumCount) else {
                throw ServiceStartError("\(path): counts.min_count \(counts.minimumCount) is not between 2 and 1000000")
            }
            if let stations = section.stations, !stations.isEmpty {
                do {
                    counts.stations = try CountingStationsFile.load(beside(stations))
                } catch {
                    throw ServiceStartError(error.description)
                }
            }
            if !counts.sources.isEmpty || counts.synthetic {
                guard !counts.stations.isEmpty else {
                    throw ServiceStartError(
                        "\(path): counts.stations must name a stations file: the counts name stations by id only")
                }
                guard sensors != nil else {
                    throw ServiceStartError(
                        "\(path): counts need sensors.url and sensors.token: counts are published only through the sensor service, which suppresses small ones"
                    )
                }
            }
        }
        return MobilityConfiguration(
            host: file.listen.host, port: file.listen.port, publicURL: file.publicUrl, database: file.database,
            feedsFolder: file.feedsFolder ?? "data/gtfs", adminToken: file.adminToken ?? "",
            maximumUploadBytes: megabytes << 20, realtimeSources: sources, realtimeInterval: interval,
            realtimeStaleAfter: stale, syntheticRealtime: file.realtime?.synthetic ?? false, parking: parking,
            catalog: catalog, sensors: sensors, counts: counts, logLevel: level)
    }
}
