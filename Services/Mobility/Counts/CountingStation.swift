package import Foundation

/// A place where passing cars, bicycles or pedestrians are counted (an induction loop, a bicycle
/// counter, a laser or radar people counter). Only the counts per interval leave the service; what
/// a counter says about single vehicles or devices never enters it.
package struct CountingStation: Sendable, Equatable {
    package enum Mode: String, CaseIterable, Sendable {
        case cars, bicycles, pedestrians

        /// The ObservedProperty's name in the sensor service.
        var observedProperty: String {
            switch self {
            case .cars: "Anzahl Kraftfahrzeuge"
            case .bicycles: "Anzahl Fahrräder"
            case .pedestrians: "Anzahl Fußgängerinnen und Fußgänger"
            }
        }

        /// The word a Datastream's name starts with: `Radverkehr Fackelrondell`.
        var traffic: String {
            switch self {
            case .cars: "Kfz-Verkehr"
            case .bicycles: "Radverkehr"
            case .pedestrians: "Fußverkehr"
            }
        }

        /// The unit symbol charts show.
        var unit: String {
            switch self {
            case .cars: "Kfz"
            case .bicycles: "Räder"
            case .pedestrians: "Personen"
            }
        }
    }

    /// Lowercase letters, digits, `-` and `_`, as the count feeds name the station.
    package var id: String
    package var name: String
    package var latitude: Double
    package var longitude: Double
    package var modes: [Mode]

    package init(id: String, name: String, latitude: Double, longitude: Double, modes: [Mode]) {
        self.id = id
        self.name = name
        self.latitude = latitude
        self.longitude = longitude
        self.modes = modes
    }
}

/// One count: how many of `mode` passed `station` from `start` to `end`.
package struct TrafficCount: Sendable, Equatable {
    package var station: String
    package var mode: CountingStation.Mode
    package var start: Date
    package var end: Date
    package var count: Int

    package init(station: String, mode: CountingStation.Mode, start: Date, end: Date, count: Int) {
        self.station = station
        self.mode = mode
        self.start = start
        self.end = end
        self.count = count
    }
}
