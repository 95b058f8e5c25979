import Foundation
import SensorThings

extension SensorSource {
    /// The most datastreams an overview shows.
    static let overviewLimit = 500

    /// Every datastream with its position and newest readings, in one request: what the overview
    /// of a site draws. A datastream with `properties.overview` false (a car park's free spaces, a
    /// traffic count: no gauge with warning levels) stays off it; dashboards still show it.
    func gauges(now: Int64) async throws(Failure) -> [GaugeStatus] {
        var components = URLComponents(string: "\(baseURL)/v1.1/Datastreams")
        components?.queryItems = [
            URLQueryItem(name: "$select", value: "id,name,unitOfMeasurement,observationType,properties"),
            URLQueryItem(
                name: "$expand",
                value:
                    "Thing($select=name;$expand=Locations($select=location)),Observations($orderby=phenomenonTime desc;$top=12;$select=phenomenonTime,result)"
            ),
            URLQueryItem(name: "$orderby", value: "id"), URLQueryItem(name: "$top", value: String(Self.overviewLimit)),
        ]
        guard let url = components?.url?.absoluteString else { throw .unavailable("bad sensor service address") }
        let page = try await get(url)
        guard case .array(let values)? = page["value"] else {
            throw .unavailable("the datastreams are not a SensorThings page")
        }
        var gauges: [GaugeStatus] = []
        for value in values {
            guard case .integer(let id)? = value["@iot.id"], value["properties"]?["overview"] != .bool(false),
                let datastream = try? Self.datastream(id, from: value)
            else { continue }
            var position: (Double, Double)?
            if case .array(let locations)? = value["Thing"]?["Locations"],
                let point = locations.first?["location"], let (longitude, latitude) = Self.point(point)
            {
                position = (longitude, latitude)
            }
            var recent: [TimeSeriesChart.Reading] = []
            if case .array(let observations)? = value["Observations"] {
                for observation in observations {
                    guard let text = observation["phenomenonTime"]?.string,
                        let time = SensorTime.interval(text)?.start, let result = observation["result"]?.double
                    else { continue }
                    recent.append(TimeSeriesChart.Reading(time: time, value: result))
                }
            }
            gauges.append(GaugeStatus(datastream: datastream, position: position, recent: recent, now: now))
        }
        return gauges
    }

    /// Longitude and latitude of a GeoJSON Point (or a Feature holding one), when plausible.
    static func point(_ geometry: JSONValue) -> (Double, Double)? {
        let point = geometry["type"]?.string == "Feature" ? geometry["geometry"] ?? .null : geometry
        guard point["type"]?.string == "Point", case .array(let coordinates)? = point["coordinates"],
            coordinates.count >= 2, let longitude = coordinates[0].double, let latitude = coordinates[1].double,
            (-180...180).contains(longitude), (-90...90).contains(latitude)
        else { return nil }
        return (longitude, latitude)
    }
}
