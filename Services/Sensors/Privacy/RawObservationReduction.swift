import Database
import SensorThings

extension SensorStore {
    /// What one pass of reducing raw observations did.
    struct Reduction: Sendable, Equatable {
        var aggregates = 0
        var deleted = 0
    }

    /// Applies the Datastreams' `raw_days`: raw observations of whole hours older than that become
    /// one hourly aggregate each (the mean as result; count, minimum and maximum in `parameters`)
    /// or are deleted. Each Datastream is one transaction, so an aggregate never exists beside the
    /// raw readings it replaced.
    func reduceRawObservations(now: Int64) async throws -> Reduction {
        try await pool.withWriter { connection in
            var total = Reduction()
            for row in try connection.execute(
                "SELECT id, properties FROM datastreams WHERE properties LIKE '%\"privacy\"%'", [])
            {
                let datastream = Int64(row.integer(0))
                guard let text = row.optionalText(1), let properties = try? JSONParser.parse(Array(text.utf8)),
                    let rules = try? DatastreamPrivacy.from(datastream: datastream, properties: properties),
                    let days = rules.rawDays
                else { continue }
                let hour: Int64 = 3_600_000
                let cutoff = (now - Int64(days) * 86_400_000) / hour * hour
                try connection.transaction {
                    switch rules.afterRaw {
                    case .delete:
                        total.deleted += try Self.deleteRaw(of: datastream, before: cutoff, on: connection)
                    case .hourly:
                        total.aggregates += try Self.aggregate(datastream, before: cutoff, on: connection)
                        total.deleted += try Self.deleteRaw(of: datastream, before: cutoff, on: connection)
                    }
                }
            }
            return total
        }
    }

    /// The marker an hourly aggregate's `parameters` start with, so it is never reduced again.
    private static let aggregateMarker = #"{"aggregate":"hour""#

    private static let isRaw = "(parameters IS NULL OR parameters NOT LIKE '\(aggregateMarker)%')"

    private static func aggregate(
        _ datastream: Int64, before cutoff: Int64, on connection: any SQLConnection
    ) throws -> Int {
        let hours = try connection.execute(
            "SELECT phenomenon_time_start / 3600000, AVG(result_number), MIN(result_number), MAX(result_number),"
                + " COUNT(result_number), MIN(feature_id) FROM observations"
                + " WHERE datastream_id = $1 AND phenomenon_time_start < $2 AND result_number IS NOT NULL"
                + " AND \(Self.isRaw) GROUP BY phenomenon_time_start / 3600000",
            [.integer(datastream), .integer(cutoff)])
        for hour in hours {
            guard let mean = hour.optionalReal(1), let minimum = hour.optionalReal(2),
                let maximum = hour.optionalReal(3)
            else { continue }
            let start = Int64(hour.integer(0)) * 3_600_000
            let result = JSONValue.number(mean)
            let parameters = JSONValue.object([
                ("aggregate", .string("hour")), ("count", .integer(Int64(hour.integer(4)))), ("min", .number(minimum)),
                ("max", .number(maximum)),
            ])
            try connection.execute(
                "INSERT INTO observations (phenomenon_time_start, phenomenon_time_end, result_type, result_number,"
                    + " result_json, parameters, datastream_id, feature_id) VALUES ($1, $2, 1, $3, $4, $5, $6, $7)",
                [
                    .integer(start), .integer(start + 3_600_000), .real(mean), .text(result.text),
                    .text(parameters.text), .integer(datastream), .integer(Int64(hour.integer(5))),
                ])
        }
        return hours.count
    }

    private static func deleteRaw(
        of datastream: Int64, before cutoff: Int64, on connection: any SQLConnection
    ) throws -> Int {
        let condition = "datastream_id = $1 AND phenomenon_time_start < $2 AND \(Self.isRaw)"
        let parameters: [SQLValue] = [.integer(datastream), .integer(cutoff)]
        let count =
            try connection.execute("SELECT COUNT(*) FROM observations WHERE \(condition)", parameters)
            .first?.integer(0) ?? 0
        if count > 0 { try connection.execute("DELETE FROM observations WHERE \(condition)", parameters) }
        return count
    }
}
