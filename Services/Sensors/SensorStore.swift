package import Database
import Foundation
import SensorThings
package import ServiceSupport

/// The SensorThings entities in SQLite (WAL) or PostgreSQL: one table per entity type, link tables
/// for the many-to-many navigations, foreign keys that cascade deletes as the standard asks (a
/// deleted Thing takes its Datastreams and their Observations with it). Observations are indexed by
/// datastream and phenomenon time, so the latest reading and a month of one datastream stay fast
/// among tens of millions of rows.
package final class SensorStore: Sendable {
    package let pool: ConnectionPool
    package let dialect: SQLDialect

    /// The schema versions, oldest first; `datenplattform sensors migrate` applies what is missing.
    /// `{id}`, `{bigint}` and `{real}` stand for each dialect's types.
    static let migrations: [ServiceDatabase.Migration] = [
        ServiceDatabase.Migration(
            1, "the SensorThings 1.1 sensing entities, their links and the observation indexes",
            [
                """
                CREATE TABLE things (
                    id {id}, name TEXT NOT NULL, description TEXT NOT NULL, properties TEXT)
                """,
                """
                CREATE TABLE locations (
                    id {id}, name TEXT NOT NULL, description TEXT NOT NULL, encoding_type TEXT NOT NULL,
                    location TEXT NOT NULL, location_min_x {real}, location_min_y {real}, location_max_x {real},
                    location_max_y {real}, properties TEXT)
                """,
                """
                CREATE TABLE things_locations (
                    thing_id {bigint} NOT NULL REFERENCES things (id) ON DELETE CASCADE,
                    location_id {bigint} NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
                    PRIMARY KEY (thing_id, location_id))
                """,
                "CREATE INDEX things_locations_by_location ON things_locations (location_id)",
                """
                CREATE TABLE historical_locations (
                    id {id}, time {bigint} NOT NULL,
                    thing_id {bigint} NOT NULL REFERENCES things (id) ON DELETE CASCADE)
                """,
                "CREATE INDEX historical_locations_by_thing ON historical_locations (thing_id, time)",
                """
                CREATE TABLE locations_historical_locations (
                    location_id {bigint} NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
                    historical_location_id {bigint} NOT NULL REFERENCES historical_locations (id) ON DELETE CASCADE,
                    PRIMARY KEY (location_id, historical_location_id))
                """,
                """
                CREATE INDEX locations_historical_locations_by_historical_location
                ON locations_historical_locations (historical_location_id)
                """,
                """
                CREATE TABLE sensors (
                    id {id}, name TEXT NOT NULL, description TEXT NOT NULL, encoding_type TEXT NOT NULL,
                    metadata TEXT NOT NULL, properties TEXT)
                """,
                """
                CREATE TABLE observed_properties (
                    id {id}, name TEXT NOT NULL, definition TEXT NOT NULL, description TEXT NOT NULL, properties TEXT)
                """,
                """
                CREATE TABLE datastreams (
                    id {id}, name TEXT NOT NULL, description TEXT NOT NULL, unit_of_measurement TEXT NOT NULL,
                    observation_type TEXT NOT NULL, observed_area TEXT, observed_area_min_x {real},
                    observed_area_min_y {real}, observed_area_max_x {real}, observed_area_max_y {real},
                    phenomenon_time_start {bigint}, phenomenon_time_end {bigint}, result_time_start {bigint},
                    result_time_end {bigint}, properties TEXT,
                    thing_id {bigint} NOT NULL REFERENCES things (id) ON DELETE CASCADE,
                    sensor_id {bigint} NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
                    observed_property_id {bigint} NOT NULL REFERENCES observed_properties (id) ON DELETE CASCADE)
                """,
                "CREATE INDEX datastreams_by_thing ON datastreams (thing_id)",
                "CREATE INDEX datastreams_by_sensor ON datastreams (sensor_id)",
                "CREATE INDEX datastreams_by_observed_property ON datastreams (observed_property_id)",
                """
                CREATE TABLE features (
                    id {id}, name TEXT NOT NULL, description TEXT NOT NULL, encoding_type TEXT NOT NULL,
                    feature TEXT NOT NULL, feature_min_x {real}, feature_min_y {real}, feature_max_x {real},
                    feature_max_y {real}, properties TEXT, from_location {bigint})
                """,
                "CREATE INDEX features_by_location ON features (from_location)",
                """
                CREATE TABLE observations (
                    id {id}, phenomenon_time_start {bigint} NOT NULL, phenomenon_time_end {bigint},
                    result_time {bigint}, result_type INTEGER NOT NULL, result_number {real}, result_string TEXT,
                    result_boolean INTEGER, result_json TEXT NOT NULL, result_quality TEXT,
                    valid_time_start {bigint}, valid_time_end {bigint}, parameters TEXT,
                    datastream_id {bigint} NOT NULL REFERENCES datastreams (id) ON DELETE CASCADE,
                    feature_id {bigint} NOT NULL REFERENCES features (id) ON DELETE CASCADE)
                """,
                // The latest reading and a time range of one datastream: an index range scan either way.
                "CREATE INDEX observations_by_datastream_time ON observations (datastream_id, phenomenon_time_start, id)",
                "CREATE INDEX observations_by_feature ON observations (feature_id)",
                // Dropped again by migration 3.
                "CREATE INDEX observations_by_time ON observations (phenomenon_time_start)",
            ]
        ),
        ServiceDatabase.Migration(
            2, "alerts raised by the Datastreams' rules, and their deliveries",
            [
                """
                CREATE TABLE alerts (
                    id {id}, datastream_id {bigint} NOT NULL REFERENCES datastreams (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL, level INTEGER NOT NULL, name TEXT NOT NULL, value {real},
                    observed_at {bigint} NOT NULL, raised_at {bigint} NOT NULL, ended_at {bigint},
                    acknowledged_at {bigint}, acknowledged_by TEXT, message TEXT NOT NULL)
                """,
                "CREATE INDEX alerts_by_datastream ON alerts (datastream_id, kind, ended_at)",
                """
                CREATE TABLE alert_deliveries (
                    id {id}, alert_id {bigint} NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
                    channel TEXT NOT NULL, event TEXT NOT NULL, attempts INTEGER NOT NULL,
                    next_attempt {bigint} NOT NULL, delivered_at {bigint}, last_error TEXT)
                """,
                "CREATE INDEX alert_deliveries_due ON alert_deliveries (delivered_at, next_attempt)",
            ]
        ),
        ServiceDatabase.Migration(
            3, "no index of observations by time across datastreams",
            [
                // Measured with stellwerk-bench sensors: loading the history of 1,000 datastreams one
                // after another put each row in a different page of this index (39,000 rows/s without
                // it, 14,000 with). Everything reads time per datastream, through
                // observations_by_datastream_time; retention deletes per datastream too.
                "DROP INDEX observations_by_time"
            ]
        ),
        ServiceDatabase.Migration(
            4, "an entity's id is never given again once deleted: the highest id issued per entity set",
            [
                // SQLite gives the highest rowid again after its row was deleted; a client that kept
                // the id of a deleted Datastream would then read another one's observations.
                "CREATE TABLE issued_ids (entity TEXT PRIMARY KEY, last {bigint} NOT NULL)",
                "INSERT INTO issued_ids (entity, last) SELECT 'things', COALESCE(MAX(id), 0) FROM things",
                "INSERT INTO issued_ids (entity, last) SELECT 'locations', COALESCE(MAX(id), 0) FROM locations",
                "INSERT INTO issued_ids (entity, last) SELECT 'historical_locations', COALESCE(MAX(id), 0) FROM historical_locations",
                "INSERT INTO issued_ids (entity, last) SELECT 'sensors', COALESCE(MAX(id), 0) FROM sensors",
                "INSERT INTO issued_ids (entity, last) SELECT 'observed_properties', COALESCE(MAX(id), 0) FROM observed_properties",
                "INSERT INTO issued_ids (entity, last) SELECT 'datastreams', COALESCE(MAX(id), 0) FROM datastreams",
                "INSERT INTO issued_ids (entity, last) SELECT 'features', COALESCE(MAX(id), 0) FROM features",
            ]
        ),
    ]

    /// The entity sets whose ids a SQLite store issues through `issued_ids` (PostgreSQL's identity
    /// columns never reuse one). Observations are left out: they come in bulk, are deleted only by
    /// age, and one more statement per reading would cost ingestion a third of its speed.
    static let idsNeverReused: Set<String> = [
        "things", "locations", "historical_locations", "sensors", "observed_properties", "datastreams", "features",
    ]

    package static var latestSchemaVersion: Int { migrations.last?.version ?? 0 }

    /// The migrations as a release manifest names them (`sensors-0001`, …), in order.
    package static var migrationIDs: [String] {
        migrations.map { String(format: "sensors-%04d", $0.version) }
    }

    /// Opens the store at `location`: `sqlite:PATH` (with `create`, a missing file is created; migrate
    /// does that) or a `postgres://` / `postgresql://` URL.
    package init(location: String, create: Bool, connections: Int = 4) throws(ServiceStartError) {
        pool = try ServiceDatabase.open(
            location, create: create, connections: connections, what: "sensor",
            migrateCommand: "datenplattform sensors migrate --config FILE")
        dialect = location.hasPrefix("sqlite:") ? .sqlite : .postgres
    }

    package func close() { pool.close() }

    package func schemaVersion() async throws -> Int {
        try await ServiceDatabase.schemaVersion(pool)
    }

    /// Applies the missing migrations in one transaction; returns the versions applied.
    package func migrate() async throws -> [Int] {
        try await ServiceDatabase.migrate(pool, Self.migrations, what: "sensor") { statement, connection in
            try connection.executeScript(Self.inDialect(statement, connection.dialect))
        }
    }

    private static func inDialect(_ statement: String, _ dialect: SQLDialect) -> String {
        let types: [(String, String)] =
            dialect == .postgres
            ? [
                ("{id}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"), ("{bigint}", "BIGINT"),
                ("{real}", "DOUBLE PRECISION"),
            ]
            : [("{id}", "INTEGER PRIMARY KEY"), ("{bigint}", "INTEGER"), ("{real}", "REAL")]
        return types.reduce(statement) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// Whether the store answers at all (for `/health`).
    package func ping() async throws {
        _ = try await pool.withConnection { try $0.query("SELECT 1") }
    }

    /// Deletes observations whose phenomenon time began before `cutoff` (milliseconds since 1970);
    /// returns how many.
    package func deleteObservations(before cutoff: Int64) async throws -> Int {
        // One datastream at a time, along observations_by_datastream_time: there is no index of
        // time across datastreams (see migration 3), and short transactions let ingest go on.
        let datastreams = try await pool.withConnection { connection in
            try connection.execute("SELECT id FROM datastreams ORDER BY id", []).map { Int64($0.integer(0)) }
        }
        var total = 0
        for datastream in datastreams {
            total += try await pool.withWriter { connection in
                try connection.transaction {
                    let parameters: [SQLValue] = [.integer(datastream), .integer(cutoff)]
                    let count =
                        try connection.execute(
                            "SELECT COUNT(*) FROM observations WHERE datastream_id = $1 AND phenomenon_time_start < $2",
                            parameters
                        ).first?.integer(0) ?? 0
                    if count > 0 {
                        try connection.execute(
                            "DELETE FROM observations WHERE datastream_id = $1 AND phenomenon_time_start < $2",
                            parameters)
                    }
                    return count
                }
            }
        }
        return total
    }
}
