import Foundation
import Mobility
import ServiceSupport
import TestSupport
import Testing

/// A mobility.yaml with a mistake stops the start in one line that names the file and the key.
struct MobilityConfigurationTests {
    static let base = """
        listen: {host: 127.0.67.70, port: 18070}
        public_url: http://127.0.67.70:18070
        database: sqlite:data/mobility.sqlite

        """

    @Test(arguments: [
        (
            "listen: {host: 127.0.67.70, port: 99999}\npublic_url: x\ndatabase: sqlite:m",
            "listen.port 99999 is not a TCP port"
        ),
        (base + "max_upload_megabytes: 5000\n", "max_upload_megabytes 5000 is not between 1 and 1024"),
        (base + "log_level: loud\n", "log_level 'loud' is not one of"),
        (
            base + "realtime:\n  sources: ftp://rt.example/feed.pb\n",
            "realtime.sources: 'ftp://rt.example/feed.pb' is not an http:// or https:// URL"
        ),
        (base + "realtime:\n  interval: 2h\n", "realtime.interval '2h' is not a duration from 1s to 3600s"),
        (
            base + "realtime:\n  interval: 1m\n  stale_after: 30s\n",
            "realtime.stale_after must be longer than realtime.interval"
        ),
        (
            base + "parking:\n  interval: 99999999999999999999s\n",
            "parking.interval '99999999999999999999s' is not a duration"
        ),
        (
            base + "catalog:\n  url: http://127.0.67.71:8101\n  token: t\n  organization: Stadt KL\n",
            "catalog.organization 'Stadt KL' must be 2 to 100 lowercase letters"
        ),
        (
            base + "counts:\n  sources: http://127.0.67.71/counts.csv\n",
            "counts.stations must name a stations file"
        ),
        (base + "counts:\n  min_count: 1\n", "counts.min_count 1 is not between 2 and 1000000"),
        (base + "sensors:\n  url: http://127.0.67.71:8104\n  token: t\n  interval: 1s\n", "sensors.interval '1s'"),
    ])
    func aMistake_isOneLineNamingTheKey(file: String, message: String) throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-mobility-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mobility.yaml").path
        try Data(file.utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: ServiceStartError.self) { try MobilityConfiguration.load(path) }
        #expect(error.description.hasPrefix("\(path): \(message)"), "\(error)")
        #expect(!error.description.contains("\n"))
    }

    /// Counts are published only through the sensor service (which suppresses small ones): counts
    /// without one, however well their stations are described, do not start.
    @Test func counts_withoutASensorService_doNotStart() throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-mobility-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mobility.yaml").path
        try Data(CountsTests.stationsFile.utf8).write(to: folder.appendingPathComponent("stations.yaml"))
        let counts = "counts:\n  stations: stations.yaml\n  synthetic: true\n"
        try Data((Self.base + counts + "sensors:\n  url: http://127.0.67.71:8104\n  token: \"\"\n").utf8).write(
            to: URL(fileURLWithPath: path))
        let error = try #require(throws: ServiceStartError.self) { try MobilityConfiguration.load(path) }
        #expect(
            error.description
                == "\(path): counts need sensors.url and sensors.token: counts are published only through the sensor service, which suppresses small ones"
        )
        try Data((Self.base + counts + "sensors:\n  url: http://127.0.67.71:8104/\n  token: s3cret\n").utf8).write(
            to: URL(fileURLWithPath: path))
        let configuration = try MobilityConfiguration.load(path)
        #expect(configuration.sensors?.url == "http://127.0.67.71:8104")
        #expect(configuration.sensors?.interval == 60)
        #expect(configuration.counts.stations.count == 2)
        #expect(configuration.counts.minimumCount == 5)
    }

    @Test func aCatalogWithoutAToken_listsNothing_andTheDefaultsHold() throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-mobility-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mobility.yaml").path
        try Data((Self.base + "catalog:\n  url: http://127.0.67.71:8101\n  token: \"\"\n").utf8).write(
            to: URL(fileURLWithPath: path))
        let configuration = try MobilityConfiguration.load(path)
        #expect(configuration.catalog == nil)
        #expect(configuration.feedsFolder == "data/gtfs" && configuration.maximumUploadBytes == 512 << 20)
        #expect(configuration.realtimeInterval == 30 && configuration.realtimeStaleAfter == 120)
        #expect(configuration.parking.sources.isEmpty)
    }
}
