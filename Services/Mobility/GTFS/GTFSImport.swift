import Database
import Foundation

/// Reads a GTFS archive into the tables of one feed version, inside the caller's transaction, and
/// checks it on the way: required files and columns, every value's form, and that every reference
/// (a trip's route and service, a stop time's trip and stop, a stop's parent station, a route's
/// agency) points at something the feed has. Problems are collected — up to a hundred, each with its
/// file and line — and the import ends in a refusal when there is any, so the caller rolls back and
/// the feed served before keeps being served.
struct GTFSImport {
    let archive: GTFSArchive
    let connection: any SQLConnection
    let version: Int

    private(set) var problems: [GTFSError] = []
    private(set) var more = 0

    /// What a feed holds, counted as it was read.
    struct Summary {
        var timezone = ""
        var publisher: String?
        var feedVersion: String?
        var firstDate: Int?
        var lastDate: Int?
        var agencies = 0
        var stops = 0
        var routes = 0
        var trips = 0
        var stopTimes = 0
    }

    private var summary = Summary()
    private var agencyIDs: Set<String> = []
    private var stopKeys: [String: (key: Int, locationType: Int)] = [:]
    private var routeKeys: [String: Int] = [:]
    private var services: Set<String> = []
    private var shapes: Set<String> = []
    private var tripKeys: [String: Int] = [:]

    init(archive: GTFSArchive, connection: any SQLConnection, version: Int) {
        self.archive = archive
        self.connection = connection
        self.version = version
    }

    /// Reads everything; throws the refusal when the feed has problems.
    mutating func run() throws -> Summary {
        for file in ["agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"]
        where !archive.contains(file) {
            note(GTFSError(file, "missing: every GTFS feed has it"))
        }
        if !archive.contains("calendar.txt") && !archive.contains("calendar_dates.txt") {
            note(GTFSError("calendar.txt", "missing, and so is calendar_dates.txt: a feed needs at least one of them"))
        }
        guard problems.isEmpty else { throw refusal }
        try agencies()
        try stops()
        try routes()
        if archive.contains("calendar.txt") { try calendar() }
        if archive.contains("calendar_dates.txt") { try calendarDates() }
        if archive.contains("shapes.txt") { try shapeIDs() }
        try trips()
        try stopTimes()
        if archive.contains("feed_info.txt") { try feedInfo() }
        guard problems.isEmpty else { throw refusal }
        return summary
    }

    private var refusal: GTFSRefusal { GTFSRefusal(problems: problems, more: more) }

    private mutating func note(_ problem: GTFSError) {
        if problems.count < 100 { problems.append(problem) } else { more += 1 }
    }

    /// Reads `file`'s rows through `body`; a row's problem is noted and the next row read, a problem
    /// with the file's form (its header, its quoting, its encoding) ends the file.
    private mutating func each(
        _ file: String, required: [String], _ body: (inout GTFSImport, GTFSRow) throws -> Void
    ) throws {
        var header: GTFSHeader?
        var this = self
        do {
            try archive.read(file) { fields, line in
                guard let known = header else {
                    header = try GTFSHeader(file: file, fields: fields, required: required)
                    return
                }
                do {
                    try body(&this, try known.row(fields, line: line))
                } catch let problem as GTFSError {
                    this.note(problem)
                }
            }
            if header == nil { this.note(GTFSError(file, line: 1, "empty: the header is missing")) }
        } catch let problem as GTFSError {
            this.note(problem)
        }
        self = this
    }

    /// The next key, given to `id` from here on, even when the rest of its row has a problem: what
    /// refers to it is then no further problem. An id seen before is a problem of the row.
    private static func newKey(
        for id: String, in keys: inout [String: Int], _ column: String, _ row: GTFSRow
    ) throws(GTFSError) -> Int {
        guard keys[id] == nil else { throw row.problem("\(column) '\(id.prefix(60))' appears twice") }
        let key = keys.count + 1
        keys[id] = key
        return key
    }

    private mutating func agencies() throws {
        var insert = BatchInsert(connection, "gtfs_agencies", ["feed", "agency_id", "name", "url"])
        var timezones: Set<String> = []
        try each("agency.txt", required: ["agency_name", "agency_url", "agency_timezone"]) { this, row in
            let id = row.optional("agency_id") ?? ""
            guard this.agencyIDs.insert(id).inserted else { throw row.problem("agency_id '\(id)' appears twice") }
            let zone = try row.required("agency_timezone")
            guard TimeZone(identifier: zone) != nil else {
                throw row.problem("agency_timezone '\(zone.prefix(60))' is not a time zone (Europe/Berlin, say)")
            }
            if let first = timezones.first, first != zone {
                throw row.problem("agency_timezone \(zone) differs from \(first): one feed has one time zone")
            }
            timezones.insert(zone)
            this.summary.timezone = zone
            try insert.add([
                .integer(Int64(this.version)), .text(id), .text(try row.required("agency_name")),
                .text(try row.required("agency_url")),
            ])
        }
        try insert.flush()
        summary.agencies = agencyIDs.count
        if agencyIDs.isEmpty { note(GTFSError("agency.txt", "holds no agency")) }
    }

    private struct Stop {
        var line: Int
        var id: String
        var name: String?
        var latitude: Double?
        var longitude: Double?
        var locationType: Int
        var parent: String?
        var platform: String?
    }

    private mutating func stops() throws {
        var read: [Stop] = []
        try each("stops.txt", required: ["stop_id"]) { this, row in
            let id = try row.required("stop_id")
            guard this.stopKeys[id] == nil else { throw row.problem("stop_id '\(id.prefix(60))' appears twice") }
            // Known from here on, even when the row has a problem: references to it are no further problem.
            this.stopKeys[id] = (read.count + 1, -1)
            let locationType = try row.integer("location_type", in: 0...4) ?? 0
            let stop = Stop(
                line: row.line, id: id, name: row.optional("stop_name"),
                latitude: try row.degrees("stop_lat", in: -90...90),
                longitude: try row.degrees("stop_lon", in: -180...180),
                locationType: locationType, parent: row.optional("parent_station"),
                platform: row.optional("platform_code"))
            if locationType <= 2 {
                guard stop.name != nil else {
                    throw row.problem("stop_name is empty (it is required for location_type \(locationType))")
                }
                guard stop.latitude != nil, stop.longitude != nil else {
                    throw row.problem("stop_lat and stop_lon are required for location_type \(locationType)")
                }
            }
            if locationType >= 2 && stop.parent == nil {
                throw row.problem("parent_station is empty (it is required for location_type \(locationType))")
            }
            if locationType == 1 && stop.parent != nil {
                throw row.problem("a station (location_type 1) has no parent_station")
            }
            this.stopKeys[id] = (read.count + 1, locationType)
            read.append(stop)
        }
        var insert = BatchInsert(
            connection, "gtfs_stops",
            ["feed", "key", "stop_id", "name", "latitude", "longitude", "location_type", "parent_key", "platform"])
        for (index, stop) in read.enumerated() {
            var parentKey: Int?
            if let parent = stop.parent {
                guard let found = stopKeys[parent] else {
                    note(
                        GTFSError(
                            "stops.txt", line: stop.line, "parent_station '\(parent.prefix(60))' is not in stops.txt"))
                    continue
                }
                // Platforms and entrances belong to a station; boarding areas to a platform.
                let expected = stop.locationType == 4 ? 0 : 1
                guard found.locationType == expected || found.locationType == -1 else {
                    note(
                        GTFSError(
                            "stops.txt", line: stop.line,
                            "parent_station '\(parent.prefix(60))' has location_type \(found.locationType), not \(expected)"
                        ))
                    continue
                }
                parentKey = found.key
            }
            try insert.add([
                .integer(Int64(version)), .integer(Int64(index + 1)), .text(stop.id), SQLValue(stop.name),
                stop.latitude.map(SQLValue.real) ?? .null, stop.longitude.map(SQLValue.real) ?? .null,
                .integer(Int64(stop.locationType)), SQLValue(parentKey), SQLValue(stop.platform),
            ])
        }
        try insert.flush()
        summary.stops = read.count
    }

    private mutating func routes() throws {
        var insert = BatchInsert(
            connection, "gtfs_routes",
            ["feed", "key", "route_id", "agency_id", "short_name", "long_name", "route_type", "color"])
        try each("routes.txt", required: ["route_id", "route_type"]) { this, row in
            let id = try row.required("route_id")
            let key = try Self.newKey(for: id, in: &this.routeKeys, "route_id", row)
            let agency = row.optional("agency_id")
            if let agency {
                guard this.agencyIDs.contains(agency) else {
                    throw row.problem("agency_id '\(agency.prefix(60))' is not in agency.txt")
                }
            } else if this.agencyIDs.count > 1 {
                throw row.problem("agency_id is empty, and agency.txt has more than one agency")
            }
            let short = row.optional("route_short_name")
            let long = row.optional("route_long_name")
            guard short != nil || long != nil else {
                throw row.problem("route_short_name and route_long_name are both empty")
            }
            // The basic types, and the extended ones (100–1700) German feeds use.
            let type = try row.integer("route_type", in: 0...1799)!
            guard (0...12).contains(type) || type >= 100 else {
                throw row.problem("route_type \(type) is neither a basic type (0–12) nor an extended one (100–1799)")
            }
            if let color = row.optional("route_color"),
                color.utf8.count != 6 || !color.allSatisfy(\.isHexDigit)
            {
                throw row.problem("route_color '\(color.prefix(20))' is not six hex digits")
            }
            try insert.add([
                .integer(Int64(this.version)), .integer(Int64(key)), .text(id), SQLValue(agency), SQLValue(short),
                SQLValue(long), .integer(Int64(type)), SQLValue(row.optional("route_color")),
            ])
        }
        try insert.flush()
        summary.routes = routeKeys.count
    }

    private mutating func widen(_ date: Int) {
        summary.firstDate = min(summary.firstDate ?? date, date)
        summary.lastDate = max(summary.lastDate ?? date, date)
    }

    private mutating func calendar() throws {
        let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        var insert = BatchInsert(
            connection, "gtfs_calendar", ["feed", "service_id", "weekdays", "start_date", "end_date"])
        var seen: Set<String> = []
        try each("calendar.txt", required: ["service_id", "start_date", "end_date"] + days) { this, row in
            let id = try row.required("service_id")
            guard seen.insert(id).inserted else { throw row.problem("service_id '\(id.prefix(60))' appears twice") }
            this.services.insert(id)
            var weekdays = 0
            for (bit, day) in days.enumerated() {
                guard let flag = try row.integer(day, in: 0...1) else { throw row.problem("\(day) is empty") }
                weekdays |= flag << bit
            }
            let start = try row.date("start_date")!
            let end = try row.date("end_date")!
            guard start <= end else { throw row.problem("end_date \(end) is before start_date \(start)") }
            this.widen(start)
            this.widen(end)
            try insert.add([
                .integer(Int64(this.version)), .text(id), .integer(Int64(weekdays)), .integer(Int64(start)),
                .integer(Int64(end)),
            ])
        }
        try insert.flush()
    }

    private mutating func calendarDates() throws {
        var insert = BatchInsert(
            connection, "gtfs_calendar_dates", ["feed", "service_id", "date", "exception_type"])
        var seen: Set<String> = []
        try each("calendar_dates.txt", required: ["service_id", "date", "exception_type"]) { this, row in
            let id = try row.required("service_id")
            this.services.insert(id)
            let date = try row.date("date")!
            let exception = try row.integer("exception_type", in: 1...2)!
            guard seen.insert("\(id)\u{0}\(date)").inserted else {
                throw row.problem("service_id '\(id.prefix(60))' has date \(date) twice")
            }
            if exception == 1 { this.widen(date) }
            try insert.add([
                .integer(Int64(this.version)), .text(id), .integer(Int64(date)), .integer(Int64(exception)),
            ])
        }
        try insert.flush()
    }

    /// Shapes are republished as they came; only their ids are needed, to check the trips' references.
    private mutating func shapeIDs() throws {
        try each("shapes.txt", required: ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"]) {
            this, row in
            _ = try row.degrees("shape_pt_lat", in: -90...90)
            _ = try row.degrees("shape_pt_lon", in: -180...180)
            _ = try row.integer("shape_pt_sequence", in: 0...Int(Int32.max))
            this.shapes.insert(try row.required("shape_id"))
        }
    }

    private mutating func trips() throws {
        var insert = BatchInsert(
            connection, "gtfs_trips", ["feed", "key", "trip_id", "route_key", "service_id", "headsign", "direction"])
        let hasShapes = archive.contains("shapes.txt")
        try each("trips.txt", required: ["route_id", "service_id", "trip_id"]) { this, row in
            let id = try row.required("trip_id")
            let key = try Self.newKey(for: id, in: &this.tripKeys, "trip_id", row)
            let route = try row.required("route_id")
            guard let routeKey = this.routeKeys[route] else {
                throw row.problem("route_id '\(route.prefix(60))' is not in routes.txt")
            }
            let service = try row.required("service_id")
            guard this.services.contains(service) else {
                throw row.problem(
                    "service_id '\(service.prefix(60))' is in neither calendar.txt nor calendar_dates.txt")
            }
            if let shape = row.optional("shape_id"), !this.shapes.contains(shape) {
                throw row.problem(
                    hasShapes
                        ? "shape_id '\(shape.prefix(60))' is not in shapes.txt"
                        : "shape_id is given, and the feed has no shapes.txt")
            }
            let direction = try row.integer("direction_id", in: 0...1)
            try insert.add([
                .integer(Int64(this.version)), .integer(Int64(key)), .text(id), .integer(Int64(routeKey)),
                .text(service),
                SQLValue(row.optional("trip_headsign")), SQLValue(direction),
            ])
        }
        try insert.flush()
        summary.trips = tripKeys.count
    }

    private mutating func stopTimes() throws {
        var insert = BatchInsert(
            connection, "gtfs_stop_times",
            ["feed", "trip_key", "stop_sequence", "stop_key", "arrival", "departure", "headsign", "pickup_type"])
        var seen: Set<Int64> = []
        seen.reserveCapacity(1 << 16)
        var count = 0
        try each("stop_times.txt", required: ["trip_id", "stop_id", "stop_sequence"]) { this, row in
            let trip = try row.required("trip_id")
            guard let tripKey = this.tripKeys[trip] else {
                throw row.problem("trip_id '\(trip.prefix(60))' is not in trips.txt")
            }
            let stop = try row.required("stop_id")
            guard let found = this.stopKeys[stop] else {
                throw row.problem("stop_id '\(stop.prefix(60))' is not in stops.txt")
            }
            // -1: a stop whose own row had a problem, reported there.
            guard found.locationType == 0 || found.locationType == 4 || found.locationType == -1 else {
                throw row.problem(
                    "stop_id '\(stop.prefix(60))' has location_type \(found.locationType): vehicles stop at platforms (0) or boarding areas (4)"
                )
            }
            let sequence = try row.integer("stop_sequence", in: 0...Int(Int32.max))!
            var arrival = try row.time("arrival_time")
            var departure = try row.time("departure_time")
            arrival = arrival ?? departure
            departure = departure ?? arrival
            if let arrival, let departure, departure < arrival {
                throw row.problem(
                    "departure_time \(GTFSTime.text(departure)) is before arrival_time \(GTFSTime.text(arrival))")
            }
            guard seen.insert(Int64(tripKey) << 32 | Int64(sequence)).inserted else {
                throw row.problem("trip '\(trip.prefix(60))' has stop_sequence \(sequence) twice")
            }
            let pickup = try row.integer("pickup_type", in: 0...3) ?? 0
            count += 1
            try insert.add([
                .integer(Int64(this.version)), .integer(Int64(tripKey)), .integer(Int64(sequence)),
                .integer(Int64(found.key)), SQLValue(arrival), SQLValue(departure),
                SQLValue(row.optional("stop_headsign")), .integer(Int64(pickup)),
            ])
        }
        try insert.flush()
        summary.stopTimes = count
    }

    private mutating func feedInfo() throws {
        try each("feed_info.txt", required: ["feed_publisher_name", "feed_publisher_url", "feed_lang"]) { this, row in
            this.summary.publisher = try row.required("feed_publisher_name")
            this.summary.feedVersion = row.optional("feed_version")
            _ = try row.date("feed_start_date")
            _ = try row.date("feed_end_date")
        }
    }
}
