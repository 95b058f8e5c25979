package import Foundation
import ZIPFoundation

/// A made-up regional timetable, marked as synthetic in its agency and feed_info: stops around
/// Kaiserslautern, bus lines through them every twenty minutes from five in the morning to past
/// midnight on weekdays, hourly at weekends, and a holiday without service. For the local sandbox,
/// the tests and the benchmark; its size is chosen by the caller.
package struct SyntheticFeed: Sendable {
    package var stops = 40
    package var routes = 4
    package var stopsPerTrip = 10
    /// Weekday trips per route and direction; weekend ones are a third of them.
    package var tripsPerDirection = 60
    /// The first day of service (YYYYMMDD); it runs to the end of that year and `years − 1` more.
    package var start = "20260101"
    package var years = 1

    package init(stops: Int = 40, routes: Int = 4, stopsPerTrip: Int = 10, tripsPerDirection: Int = 60) {
        self.stops = stops
        self.routes = routes
        self.stopsPerTrip = min(stopsPerTrip, stops)
        self.tripsPerDirection = tripsPerDirection
    }

    /// The files, by name.
    package func files() -> [String: String] {
        var files: [String: String] = [:]
        files["agency.txt"] = """
            agency_id,agency_name,agency_url,agency_timezone,agency_lang
            SYN,Synthetischer Verkehrsverbund (Testdaten),https://example.org/synthetisch,Europe/Berlin,de

            """
        files["feed_info.txt"] = """
            feed_publisher_name,feed_publisher_url,feed_lang,feed_version
            Stellwerk (synthetische Testdaten),https://example.org/synthetisch,de,synthetic-1

            """
        var stopLines = ["stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,platform_code"]
        // The first stop is a station with two platforms; every other stop is a pole of its own.
        stopLines.append("hbf,Kaiserslautern Hbf (synthetisch),49.4400,7.7700,1,,")
        for index in 0..<stops {
            let latitude = 49.44 + Double(index / 20) * 0.004 - 0.04
            let longitude = 7.77 + Double(index % 20) * 0.006 - 0.06
            let name = index < 2 ? "Kaiserslautern Hbf (synthetisch)" : "Haltestelle \(index) (synthetisch)"
            let parent = index < 2 ? "hbf" : ""
            let platform = index < 2 ? String(index + 1) : ""
            stopLines.append(
                "s\(index),\(name),\(String(format: "%.5f", latitude)),\(String(format: "%.5f", longitude)),0,\(parent),\(platform)"
            )
        }
        files["stops.txt"] = stopLines.joined(separator: "\n") + "\n"
        var routeLines = ["route_id,agency_id,route_short_name,route_long_name,route_type,route_color"]
        for route in 0..<routes {
            routeLines.append("r\(route),SYN,\(101 + route),Linie \(101 + route) (synthetisch),3,0A5FA5")
        }
        files["routes.txt"] = routeLines.joined(separator: "\n") + "\n"
        let firstYear = Int(start.prefix(4)) ?? 2026
        let end = "\(firstYear + max(1, years) - 1)1231"
        files["calendar.txt"] = """
            service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
            weekday,1,1,1,1,1,0,0,\(start),\(end)
            weekend,0,0,0,0,0,1,1,\(start),\(end)

            """
        // No service on Christmas Day, whatever weekday it is.
        files["calendar_dates.txt"] =
            "service_id,date,exception_type\n"
            + (firstYear..<(firstYear + max(1, years))).map { "weekday,\($0)1225,2\nweekend,\($0)1225,2\n" }.joined()
        var tripLines = ["route_id,service_id,trip_id,trip_headsign,direction_id"]
        var timeLines = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type"]
        tripLines.reserveCapacity(routes * tripsPerDirection * 3)
        timeLines.reserveCapacity(routes * tripsPerDirection * 3 * stopsPerTrip)
        for route in 0..<routes {
            // Each line starts at the station and runs through its own stretch of stops.
            let path = [route % 2] + (0..<(stopsPerTrip - 1)).map { 2 + (route * 7 + $0) % max(1, stops - 2) }
            for (service, count, headway) in [
                ("weekday", tripsPerDirection, 20 * 60), ("weekend", max(1, tripsPerDirection / 3), 60 * 60),
            ] {
                for trip in 0..<count {
                    for direction in 0..<2 {
                        let id = "r\(route)-\(service)-\(trip)-\(direction)"
                        let stopsInOrder = direction == 0 ? path : path.reversed()
                        let headsign = direction == 0 ? "Haltestelle \(path.last!)" : "Kaiserslautern Hbf"
                        tripLines.append("r\(route),\(service),\(id),\(headsign) (synthetisch),\(direction)")
                        // From 05:00 on; the last trips run past midnight (times past 24:00:00).
                        var time = 5 * 3600 + trip * headway + route * 120
                        for (sequence, stop) in stopsInOrder.enumerated() {
                            let text = GTFSTime.text(time)
                            let last = sequence == stopsInOrder.count - 1
                            timeLines.append(
                                "\(id),\(text),\(text),s\(stop),\(sequence + 1),\(last ? 1 : 0),\(sequence == 0 ? 1 : 0)"
                            )
                            time += 150
                        }
                    }
                }
            }
        }
        files["trips.txt"] = tripLines.joined(separator: "\n") + "\n"
        files["stop_times.txt"] = timeLines.joined(separator: "\n") + "\n"
        return files
    }

    /// Writes the feed as a GTFS zip at `url`.
    package func write(to url: URL) throws {
        try Self.zip(files(), to: url)
    }

    /// Writes `files` (name → content) as a deflated zip at `url`.
    package static func zip(_ files: [String: String], to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        let archive = try Archive(url: url, accessMode: .create)
        for (name, content) in files.sorted(by: { $0.key < $1.key }) {
            let data = Data(content.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate
            ) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    /// Adds `data` as the file `name` to the zip at `url`.
    package static func append(named name: String, data: Data, to url: URL) throws {
        let archive = try Archive(url: url, accessMode: .update)
        try archive.addEntry(
            with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate
        ) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
    }
}
