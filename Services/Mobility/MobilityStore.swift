package import Database
import Foundation
package import ServiceSupport

/// The mobility service's tables in SQLite (WAL) or PostgreSQL: every imported GTFS feed version
/// whole (stops, routes, trips, stop times and calendars, keyed by version), and which version is
/// served. Stop times are indexed by stop and departure, the departures board's one question.
package final class MobilityStore: Sendable {
    package let pool: ConnectionPool

    /// The schema versions, oldest first; `datenplattform mobility migrate` applies what is missing.
    /// The types are ones both databases take (BIGINT, DOUBLE PRECISION, TEXT).
    static let migrations: [ServiceDatabase.Migration] = [
        ServiceDatabase.Migration(
            1, "GTFS feed versions with their stops, routes, trips, stop times and calendars",
            [
                """
                CREATE TABLE gtfs_feeds (
                    version BIGINT PRIMARY KEY, imported_at BIGINT NOT NULL, sha256 TEXT NOT NULL,
                    file_name TEXT NOT NULL, bytes BIGINT NOT NULL, timezone TEXT NOT NULL,
                    publisher TEXT, feed_version TEXT, first_date BIGINT, last_date BIGINT,
                    agencies BIGINT NOT NULL, stops BIGINT NOT NULL, routes BIGINT NOT NULL,
                    trips BIGINT NOT NULL, stop_times BIGINT NOT NULL, served BIGINT NOT NULL DEFAULT 0)
                """,
                """
                CREATE TABLE gtfs_agencies (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    agency_id TEXT NOT NULL, name TEXT NOT NULL, url TEXT NOT NULL,
                    PRIMARY KEY (feed, agency_id))
                """,
                """
                CREATE TABLE gtfs_stops (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    key BIGINT NOT NULL, stop_id TEXT NOT NULL, name TEXT, latitude DOUBLE PRECISION,
                    longitude DOUBLE PRECISION, location_type BIGINT NOT NULL, parent_key BIGINT,
                    platform TEXT, PRIMARY KEY (feed, key))
                """,
                "CREATE UNIQUE INDEX gtfs_stops_by_id ON gtfs_stops (feed, stop_id)",
                "CREATE INDEX gtfs_stops_by_parent ON gtfs_stops (feed, parent_key)",
                """
                CREATE TABLE gtfs_routes (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    key BIGINT NOT NULL, route_id TEXT NOT NULL, agency_id TEXT, short_name TEXT,
                    long_name TEXT, route_type BIGINT NOT NULL, color TEXT, PRIMARY KEY (feed, key))
                """,
                """
                CREATE TABLE gtfs_trips (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    key BIGINT NOT NULL, trip_id TEXT NOT NULL, route_key BIGINT NOT NULL,
                    service_id TEXT NOT NULL, headsign TEXT, direction BIGINT, PRIMARY KEY (feed, key))
                """,
                "CREATE UNIQUE INDEX gtfs_trips_by_id ON gtfs_trips (feed, trip_id)",
                """
                CREATE TABLE gtfs_stop_times (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    trip_key BIGINT NOT NULL, stop_sequence BIGINT NOT NULL, stop_key BIGINT NOT NULL,
                    arrival BIGINT, departure BIGINT, headsign TEXT, pickup_type BIGINT NOT NULL,
                    PRIMARY KEY (feed, trip_key, stop_sequence))
                """,
                "CREATE INDEX gtfs_stop_times_by_stop ON gtfs_stop_times (feed, stop_key, departure)",
                """
                CREATE TABLE gtfs_calendar (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    service_id TEXT NOT NULL, weekdays BIGINT NOT NULL, start_date BIGINT NOT NULL,
                    end_date BIGINT NOT NULL, PRIMARY KEY (feed, service_id))
                """,
                """
                CREATE TABLE gtfs_calendar_dates (
                    feed BIGINT NOT NULL REFERENCES gtfs_feeds (version) ON DELETE CASCADE,
                    service_id TEXT NOT NULL, date BIGINT NOT NULL, exception_type BIGINT NOT NULL,
                    PRIMARY KEY (feed, service_id, date))
                """,
            ])
    ]

    package static var latestSchemaVersion: Int { migrations.last?.version ?? 0 }

    package static var migrationIDs: [String] {
        migrations.map { String(format: "mobility-%04d", $0.version) }
    }

    /// Opens the store at `location`: `sqlite:PATH` (with `create`, a missing file is created; migrate
    /// does that) or a `postgres://` / `postgresql://` URL.
    package init(location: String, create: Bool, connections: Int = 4) throws(ServiceStartError) {
        pool = try ServiceDatabase.open(
            location, create: create, connections: connections, what: "mobility",
            migrateCommand: "datenplattform mobility migrate --config FILE")
    }

    package func close() { pool.close() }

    package func schemaVersion() async throws -> Int {
        try await ServiceDatabase.schemaVersion(pool)
    }

    /// Applies the missing migrations in one transaction; returns the versions applied.
    package func migrate() async throws -> [Int] {
        try await ServiceDatabase.migrate(pool, Self.migrations, what: "mobility") { statement, connection in
            try connection.executeScript(statement)
        }
    }

    package func ping() async throws {
        _ = try await pool.withConnection { try $0.query("SELECT 1") }
    }

    // MARK: Feed versions

    /// One imported feed version, as `/api/gtfs/feeds` lists it.
    package struct FeedVersion: Sendable, Codable, Equatable {
        package var version: Int
        package var importedAt: Int
        package var sha256: String
        package var fileName: String
        package var bytes: Int
        package var timezone: String
        package var publisher: String?
        package var feedVersion: String?
        package var firstDate: Int?
        package var lastDate: Int?
        package var agencies: Int
        package var stops: Int
        package var routes: Int
        package var trips: Int
        package var stopTimes: Int
        package var served: Bool

        static let columns =
            "version, imported_at, sha256, file_name, bytes, timezone, publisher, feed_version, first_date, "
            + "last_date, agencies, stops, routes, trips, stop_times, served"

        init(_ row: SQLRow) {
            version = row.integer(0)
            importedAt = row.integer(1)
            sha256 = row.text(2)
            fileName = row.text(3)
            bytes = row.integer(4)
            timezone = row.text(5)
            publisher = row.optionalText(6)
            feedVersion = row.optionalText(7)
            firstDate = row.optionalInteger(8)
            lastDate = row.optionalInteger(9)
            agencies = row.integer(10)
            stops = row.integer(11)
            routes = row.integer(12)
            trips = row.integer(13)
            stopTimes = row.integer(14)
            served = row.integer(15) != 0
        }

        package init(
            version: Int, importedAt: Int, sha256: String, fileName: String, bytes: Int, timezone: String,
            publisher: String?, feedVersion: String?, firstDate: Int?, lastDate: Int?, agencies: Int, stops: Int,
            routes: Int, trips: Int, stopTimes: Int, served: Bool
        ) {
            self.version = version
            self.importedAt = importedAt
            self.sha256 = sha256
            self.fileName = fileName
            self.bytes = bytes
            self.timezone = timezone
            self.publisher = publisher
            self.feedVersion = feedVersion
            self.firstDate = firstDate
            self.lastDate = lastDate
            self.agencies = agencies
            self.stops = stops
            self.routes = routes
            self.trips = trips
            self.stopTimes = stopTimes
            self.served = served
        }

        var values: [SQLValue] {
            [
                .integer(Int64(version)), .integer(Int64(importedAt)), .text(sha256), .text(fileName),
                .integer(Int64(bytes)), .text(timezone), SQLValue(publisher), SQLValue(feedVersion),
                SQLValue(firstDate), SQLValue(lastDate), .integer(Int64(agencies)), .integer(Int64(stops)),
                .integer(Int64(routes)), .integer(Int64(trips)), .integer(Int64(stopTimes)), .integer(served ? 1 : 0),
            ]
        }
    }

    /// Every version kept, newest first.
    package func feedVersions() async throws -> [FeedVersion] {
        try await pool.withConnection { connection in
            try connection.query("SELECT \(FeedVersion.columns) FROM gtfs_feeds ORDER BY version DESC").map(
                FeedVersion.init)
        }
    }

    /// The version served, if any.
    package func servedFeed() async throws -> FeedVersion? {
        try await pool.withConnection { connection in
            try connection.query("SELECT \(FeedVersion.columns) FROM gtfs_feeds WHERE served = 1").first.map(
                FeedVersion.init)
        }
    }
}
