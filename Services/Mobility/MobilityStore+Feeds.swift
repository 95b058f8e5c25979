import Crypto
import Database
package import Foundation

extension MobilityStore {
    /// How many versions are kept: the one served and the one before (to go back to by hand).
    static let keptVersions = 2

    /// Imports the GTFS archive at `file` as a new version and serves it, all in one transaction:
    /// a feed with any problem is refused whole (`GTFSRefusal`, every problem with its file and line)
    /// and the version served before stays served. The archive itself is kept in `folder` as the
    /// version's republication; versions past the kept ones are removed with their files.
    package func importFeed(
        _ file: URL, named name: String, into folder: URL, now: Date = Date()
    ) async throws -> FeedVersion {
        let digest = try Self.sha256(of: file)
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int) ?? 0
        let (imported, removed) = try await pool.withWriter { connection -> (FeedVersion, [FeedVersion]) in
            let archive = try GTFSArchive(url: file, name: name)
            return try connection.transaction {
                let version =
                    (try connection.query("SELECT COALESCE(MAX(version), 0) FROM gtfs_feeds").first?.integer(0) ?? 0)
                    + 1
                var feed = FeedVersion(
                    version: version, importedAt: Int(now.timeIntervalSince1970), sha256: digest, fileName: name,
                    bytes: bytes, timezone: "", publisher: nil, feedVersion: nil, firstDate: nil, lastDate: nil,
                    agencies: 0, stops: 0, routes: 0, trips: 0, stopTimes: 0, served: false)
                try connection.execute(
                    "INSERT INTO gtfs_feeds (\(FeedVersion.columns)) VALUES (\((1...16).map { "$\($0)" }.joined(separator: ", ")))",
                    feed.values)
                var reader = GTFSImport(archive: archive, connection: connection, version: version)
                let summary = try reader.run()
                feed.timezone = summary.timezone
                feed.publisher = summary.publisher
                feed.feedVersion = summary.feedVersion
                feed.firstDate = summary.firstDate
                feed.lastDate = summary.lastDate
                feed.agencies = summary.agencies
                feed.stops = summary.stops
                feed.routes = summary.routes
                feed.trips = summary.trips
                feed.stopTimes = summary.stopTimes
                feed.served = true
                try connection.execute(
                    """
                    UPDATE gtfs_feeds SET timezone = $2, publisher = $3, feed_version = $4, first_date = $5,
                        last_date = $6, agencies = $7, stops = $8, routes = $9, trips = $10, stop_times = $11
                    WHERE version = $1
                    """,
                    [
                        .integer(Int64(version)), .text(feed.timezone), SQLValue(feed.publisher),
                        SQLValue(feed.feedVersion), SQLValue(feed.firstDate), SQLValue(feed.lastDate),
                        .integer(Int64(feed.agencies)), .integer(Int64(feed.stops)), .integer(Int64(feed.routes)),
                        .integer(Int64(feed.trips)), .integer(Int64(feed.stopTimes)),
                    ])
                try connection.execute(
                    "UPDATE gtfs_feeds SET served = CASE WHEN version = $1 THEN 1 ELSE 0 END",
                    [.integer(Int64(version))])
                let old = try connection.query(
                    "SELECT \(FeedVersion.columns) FROM gtfs_feeds WHERE version <= $1",
                    .integer(Int64(version - Self.keptVersions))
                ).map(FeedVersion.init)
                for gone in old { try Self.remove(gone.version, connection) }
                // In place before the commit: a version is never served without its file.
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let kept = folder.appendingPathComponent(Self.fileName(of: feed))
                try? FileManager.default.removeItem(at: kept)
                try FileManager.default.copyItem(at: file, to: kept)
                return (feed, old)
            }
        }
        for gone in removed {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(Self.fileName(of: gone)))
        }
        return imported
    }

    /// The file a version's archive is kept in.
    package static func fileName(of feed: FeedVersion) -> String {
        "gtfs-\(feed.version)-\(feed.sha256.prefix(16)).zip"
    }

    private static func remove(_ version: Int, _ connection: any SQLConnection) throws {
        // Children first, each by its index, rather than a million cascaded deletes.
        for table in [
            "gtfs_stop_times", "gtfs_trips", "gtfs_calendar_dates", "gtfs_calendar", "gtfs_routes", "gtfs_stops",
            "gtfs_agencies", "gtfs_feeds",
        ] {
            try connection.execute(
                "DELETE FROM \(table) WHERE \(table == "gtfs_feeds" ? "version" : "feed") = $1",
                [.integer(Int64(version))])
        }
    }

    static func sha256(of file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The served version's calendar.
    func calendar(of version: Int) async throws -> ServiceCalendar {
        try await pool.withConnection { connection in
            var calendar = ServiceCalendar()
            for row in try connection.query(
                "SELECT service_id, weekdays, start_date, end_date FROM gtfs_calendar WHERE feed = $1",
                .integer(Int64(version)))
            {
                calendar.periods[row.text(0)] = .init(
                    weekdays: row.integer(1), start: row.integer(2), end: row.integer(3))
            }
            for row in try connection.query(
                "SELECT service_id, date, exception_type FROM gtfs_calendar_dates WHERE feed = $1",
                .integer(Int64(version)))
            {
                calendar.exceptions[row.text(0), default: [:]][row.integer(1)] = row.integer(2)
            }
            return calendar
        }
    }
}
