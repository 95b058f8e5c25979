import Foundation
package import ServiceSupport
import Yams

/// A site's counting stations file (`counting-stations.yaml`): where the stations the count feeds
/// name stand, and what each counts.
///
/// ```yaml
/// stations:
///   - id: kl-fackelrondell           # as the count feeds name it: lowercase letters, digits, - and _
///     name: Fackelrondell
///     lat: 49.4432
///     lon: 7.7661
///     modes: [cars, bicycles]        # cars, bicycles, pedestrians
/// ```
package enum CountingStationsFile {
    package static let maxBytes = 262_144
    static let maxStations = 1000

    /// The stations of the file at `path`, by id; an empty file has none.
    package static func load(_ path: String) throws(YAMLFileError) -> [String: CountingStation] {
        try parse(YAMLFileReader.text(at: path, maxBytes: maxBytes), file: path)
    }

    package static func parse(_ text: String, file: String) throws(YAMLFileError) -> [String: CountingStation] {
        var reader = YAMLFileReader(file: file)
        guard let root = try reader.compose(text) else { return [:] }
        var stations: [String: CountingStation] = [:]
        if let fields = reader.mapping(root, "the counting stations file", allowed: ["stations"]),
            let node = reader.required(fields, "stations", in: root, "the counting stations file"),
            let list = reader.sequence(node, "stations")
        {
            if list.count > maxStations { reader.report("more than \(maxStations) stations", at: node) }
            for item in list.prefix(maxStations) {
                guard let station = parseStation(item, &reader) else { continue }
                guard stations[station.id] == nil else {
                    reader.report("the id '\(station.id)' appears twice", at: item)
                    continue
                }
                stations[station.id] = station
            }
        }
        try reader.finish()
        return stations
    }

    private static func parseStation(_ node: Node, _ reader: inout YAMLFileReader) -> CountingStation? {
        let what = "a counting station"
        guard let fields = reader.mapping(node, what, allowed: ["id", "name", "lat", "lon", "modes"]) else {
            return nil
        }
        var id = reader.required(fields, "id", in: node, what).flatMap { reader.string($0, "id") }
        if let value = id, let node = fields["id"], !ParkingSitesFile.isIdentifier(value) {
            reader.report(
                "the id '\(value.prefix(40))' must be lowercase letters, digits, '-' and '_' (at most 256)", at: node)
            id = nil
        }
        let name = reader.required(fields, "name", in: node, what).flatMap { reader.text($0, "name") }
        let latitude = ParkingSitesFile.degrees(fields, "lat", in: node, what, 34...72, &reader)
        let longitude = ParkingSitesFile.degrees(fields, "lon", in: node, what, -27...43, &reader)
        var modes: [CountingStation.Mode] = []
        if let list = reader.required(fields, "modes", in: node, what), let items = reader.sequence(list, "modes") {
            for item in items {
                guard let text = reader.string(item, "a mode") else { continue }
                guard let mode = CountingStation.Mode(rawValue: text) else {
                    let known = CountingStation.Mode.allCases.map(\.rawValue).joined(separator: ", ")
                    reader.report("the mode '\(text.prefix(40))' is not one of \(known)", at: item)
                    continue
                }
                if modes.contains(mode) {
                    reader.report("the mode '\(text)' appears twice", at: item)
                } else {
                    modes.append(mode)
                }
            }
            if items.isEmpty { reader.report("a station counts at least one mode", at: list) }
        }
        guard let id, let name, let latitude, let longitude, !modes.isEmpty else { return nil }
        return CountingStation(id: id, name: name, latitude: latitude, longitude: longitude, modes: modes)
    }
}
