import Foundation

/// One series the mobility service keeps as a Datastream in the sensor service: a car park's free
/// spaces, or one mode of a counting station; with what its Thing, Sensor and ObservedProperty are,
/// and the readings it has now.
struct HistorySeries {
    /// `parking/UID` or `counts/STATION/MODE`: kept in the Datastream's `properties.mobility`, so
    /// the service finds its Datastreams again after a restart, and in nobody else's.
    var key: String
    /// `parking/UID` or `counts/STATION`, in the Thing's `properties.mobility`.
    var thingKey: String
    var thingName: String
    var thingDescription: String
    var latitude: Double
    var longitude: Double
    var sensorName: String
    var sensorDescription: String
    var observedProperty: String
    var observedPropertyDefinition: String
    var name: String
    var description: String
    var unit: (name: String, symbol: String)
    /// Members merged into the Datastream's properties, beside `mobility` and `overview`.
    var properties: [String: Any]
    var synthetic: Bool
    var readings: [Reading]

    struct Reading {
        /// Where the reading starts: what tells new readings from those already sent.
        var start: Date
        /// An instant or `start/end`, as SensorThings writes times.
        var phenomenonTime: String
        var value: Int
    }

    static func time(_ date: Date) -> String { date.formatted(.iso8601) }

    /// The Datastream's properties: the key, kept off the water-level overview (see the
    /// visualization service), and the series' own.
    var datastreamProperties: [String: Any] {
        properties.merging(["mobility": key, "overview": false, "synthetic": synthetic]) { _, new in new }
    }

    func thing() -> [String: Any] {
        [
            "name": thingName, "description": thingDescription,
            "properties": ["mobility": thingKey, "synthetic": synthetic],
            "Locations": [
                [
                    "name": thingName, "description": thingDescription, "encodingType": "application/geo+json",
                    "location": ["type": "Point", "coordinates": [longitude, latitude]],
                ]
            ],
        ]
    }

    func datastream(thing: Int64, sensor: Int64, observedProperty: Int64) -> [String: Any] {
        [
            "name": name, "description": description,
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
            "unitOfMeasurement": [
                "name": unit.name, "symbol": unit.symbol,
                // A count of things in UCUM is a number with an annotation in braces: {Stellplatz}.
                "definition": "http://unitsofmeasure.org/ucum.html#para-curly",
            ],
            "properties": datastreamProperties, "Thing": ["@iot.id": thing], "Sensor": ["@iot.id": sensor],
            "ObservedProperty": ["@iot.id": observedProperty],
        ]
    }
}

extension HistorySeries {
    /// A car park's free spaces, with its current reading when its source is current.
    init(site: ParkingSite, synthetic: Bool) {
        let place = [site.address, "ParkAPI \(site.type)"].compactMap { $0 }.joined(separator: ", ")
        self.init(
            key: "parking/\(site.uid)", thingKey: "parking/\(site.uid)", thingName: site.name,
            thingDescription: place, latitude: site.latitude, longitude: site.longitude,
            sensorName: "Parkleitsystem",
            sensorDescription: "Belegung der Parkhäuser und Parkplätze aus dem Parkleitsystem",
            observedProperty: "Freie Stellplätze", observedPropertyDefinition: "urn:stellwerk:mobility:parking:free",
            name: site.historyName,
            description: "Freie Stellplätze in \(site.name)\(synthetic ? " (synthetische Beispieldaten)" : "")",
            unit: ("Stellplatz", "Plätze"), properties: ["parkapi_uid": site.uid, "capacity": site.capacity],
            synthetic: synthetic,
            readings: site.realtime.map {
                [Reading(start: $0.updatedAt, phenomenonTime: Self.time($0.updatedAt), value: $0.free)]
            } ?? [])
    }

    /// One mode of a counting station, with `counts` (its own, oldest first).
    init(
        station: CountingStation, mode: CountingStation.Mode, counts: [TrafficCount], minimumCount: Int,
        synthetic: Bool
    ) {
        self.init(
            key: "counts/\(station.id)/\(mode.rawValue)", thingKey: "counts/\(station.id)",
            thingName: "Zählstelle \(station.name)", thingDescription: "Verkehrszählstelle \(station.name)",
            latitude: station.latitude, longitude: station.longitude, sensorName: "Verkehrszählung",
            sensorDescription: "Zählgeräte der Verkehrszählstellen (Anzahlen je Zeitraum, keine Einzelerfassung)",
            observedProperty: mode.observedProperty,
            observedPropertyDefinition: "urn:stellwerk:mobility:counts:\(mode.rawValue)",
            name: station.historyName(of: mode),
            description:
                "\(mode.observedProperty) je Zeitraum an der Zählstelle \(station.name)\(synthetic ? " (synthetische Beispieldaten)" : "")",
            unit: ("Anzahl", mode.unit), properties: ["privacy": ["min_count": minimumCount]], synthetic: synthetic,
            readings: counts.map {
                Reading(start: $0.start, phenomenonTime: "\(Self.time($0.start))/\(Self.time($0.end))", value: $0.count)
            })
    }
}

extension ParkingSite {
    /// The name of the car park's Datastream of free spaces in the sensor service, which dashboards
    /// give.
    package var historyName: String { "Freie Stellplätze \(name)" }
}

extension CountingStation {
    /// The name of the station's Datastream of `mode` in the sensor service, which dashboards give.
    package func historyName(of mode: Mode) -> String { "\(mode.traffic) \(name)" }
}
