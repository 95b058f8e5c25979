import Crypto
import Foundation
import SensorThings

/// The service-wide privacy rules, applied to every entity before it is stored, whoever writes it
/// (the API, DataArray, LoRaWAN ingest, pulls): fields dropped, identifiers replaced by keyed
/// pseudonyms, positions coarsened to a grid.
package struct ServicePrivacy: Sendable {
    /// Keys of `properties` and `parameters` that are dropped (`personal_fields`).
    package var droppedFields: Set<String> = []
    /// Keys of `properties` and `parameters` whose values are replaced by pseudonyms.
    package var pseudonymFields: Set<String> = []
    /// The key of the pseudonyms: without it they could be reversed by trying every device id.
    package var pseudonymKey: String?
    /// The side of a grid cell in metres that positions are moved to the middle of; nil: kept.
    package var locationGrid: Double?

    package init(
        droppedFields: Set<String> = [], pseudonymFields: Set<String> = [], pseudonymKey: String? = nil,
        locationGrid: Double? = nil
    ) {
        self.droppedFields = droppedFields
        self.pseudonymFields = pseudonymFields
        self.pseudonymKey = pseudonymKey
        self.locationGrid = locationGrid
    }

    var isEmpty: Bool { droppedFields.isEmpty && pseudonymFields.isEmpty && locationGrid == nil }

    /// The keyed pseudonym of `identifier`: the same identifier always gets the same pseudonym, so
    /// readings of one device still belong together, but nobody without the key can tell which
    /// device it was.
    func pseudonym(of identifier: String) -> String? {
        guard let pseudonymKey else { return nil }
        let code = HMAC<SHA256>.authenticationCode(
            for: Data(identifier.utf8), using: SymmetricKey(data: Data(pseudonymKey.utf8)))
        return "psn:" + code.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// `member` (the value of `property` of a `type`) as it may be stored.
    func apply(to member: JSONValue, property: String, of type: EntityType) -> JSONValue {
        switch property {
        case "properties", "parameters":
            guard case .object(let fields) = member, !isEmpty else { return member }
            return .object(
                fields.compactMap { key, value in
                    if droppedFields.contains(key) { return nil }
                    if pseudonymFields.contains(key), value != .null {
                        return (key, pseudonym(of: value.string ?? value.text).map(JSONValue.string) ?? .null)
                    }
                    if let locationGrid, property == "parameters", GeoJSON.boundingBox(of: value) != nil {
                        return (key, Self.coarsen(value, grid: locationGrid))
                    }
                    return (key, value)
                })
        case "location" where type == EntityModel.location, "feature" where type == EntityModel.featureOfInterest:
            guard let locationGrid else { return member }
            return Self.coarsen(member, grid: locationGrid)
        default:
            return member
        }
    }

    /// Every position of a GeoJSON geometry (or feature) moved to the middle of its cell of a grid
    /// of `grid` metres; what is not a position is kept.
    static func coarsen(_ geometry: JSONValue, grid: Double) -> JSONValue {
        switch geometry {
        case .object(let members):
            return .object(
                members.map { key, value in
                    switch key {
                    case "coordinates": (key, coarsenPositions(value, grid: grid))
                    case "geometry", "geometries": (key, coarsen(value, grid: grid))
                    default: (key, value)
                    }
                })
        case .array(let items):
            return .array(items.map { coarsen($0, grid: grid) })
        default:
            return geometry
        }
    }

    private static func coarsenPositions(_ value: JSONValue, grid: Double) -> JSONValue {
        guard case .array(let items) = value else { return value }
        if items.count >= 2, let longitude = items[0].double, let latitude = items[1].double {
            let (snappedLongitude, snappedLatitude) = snap(longitude: longitude, latitude: latitude, grid: grid)
            return .array([.number(snappedLongitude), .number(snappedLatitude)] + items.dropFirst(2))
        }
        return .array(items.map { coarsenPositions($0, grid: grid) })
    }

    /// The middle of the grid cell a position lies in: cells are `grid` metres high everywhere and
    /// `grid` metres wide at their middle latitude.
    static func snap(longitude: Double, latitude: Double, grid: Double) -> (Double, Double) {
        let metresPerDegree = 111_320.0
        let latitudeStep = grid / metresPerDegree
        let cellLatitude = min(max((latitude / latitudeStep).rounded(.down) * latitudeStep + latitudeStep / 2, -90), 90)
        let width = max(cos(cellLatitude * .pi / 180), 0.01)
        let longitudeStep = grid / (metresPerDegree * width)
        let cellLongitude = (longitude / longitudeStep).rounded(.down) * longitudeStep + longitudeStep / 2
        func rounded(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }
        return (rounded(cellLongitude), rounded(cellLatitude))
    }
}
