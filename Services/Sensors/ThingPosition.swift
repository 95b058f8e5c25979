import Database
import SensorThings

/// Where a Thing is, for views that place it on a map (the Pegelonline view, CAP areas): the point
/// of its first Location; nil when it has none or the first is not a GeoJSON Point.
enum ThingPosition {
    static func of(thing: Int64, on connection: any SQLConnection) throws -> (latitude: Double, longitude: Double)? {
        guard
            let location = try connection.execute(
                "SELECT l.location FROM things_locations tl JOIN locations l ON l.id = tl.location_id"
                    + " WHERE tl.thing_id = $1 ORDER BY l.id LIMIT 1", [.integer(thing)]
            ).first?.optionalText(0), let geometry = try? JSONParser.parse(Array(location.utf8)),
            geometry["type"]?.string == "Point", case .array(let coordinates)? = geometry["coordinates"],
            coordinates.count >= 2, let longitude = coordinates[0].double, let latitude = coordinates[1].double
        else { return nil }
        return (latitude, longitude)
    }
}
