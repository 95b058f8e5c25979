import Database
import SensorThings

/// The DataArray extension (OGC 18-088 section 14) for reading: `$resultFormat=dataArray` writes a
/// page of observations as rows of values, grouped by datastream, with the names of the values once
/// in `components`.
extension EntityReader {
    /// The components a row may hold, in the order they are written by default.
    static let dataArrayComponents = [
        "id", "phenomenonTime", "result", "resultTime", "resultQuality", "validTime", "parameters",
        "FeatureOfInterest/id",
    ]

    func dataArray(
        scope: Scope, options: QueryOptions, on connection: any SQLConnection, nextLinkBase: String,
        query: [(String, String)]
    ) throws -> String {
        let type = EntityModel.observation
        guard options.expand.isEmpty else {
            throw SensorsError(.badRequest, "$resultFormat=dataArray cannot be combined with $expand")
        }
        let components =
            options.select.map { names in names.map { $0 == "@iot.id" ? "id" : $0 } } ?? Self.dataArrayComponents
        let (header, rows) = try page(
            type, scope: scope, options: options, on: connection, nextLinkBase: nextLinkBase, query: query,
            extraColumns: ["e0.datastream_id", "e0.feature_id"])
        let base = EntityCodec.columns(of: type).count
        var order: [Int64] = []
        var groups: [Int64: [JSONValue]] = [:]
        for row in rows {
            let datastream = Int64(row.integer(base))
            let properties = EntityCodec.properties(of: type, row: row)
            let values: [JSONValue] = components.map { component in
                switch component {
                case "id": properties.first { $0.0 == "@iot.id" }?.1 ?? .null
                case "FeatureOfInterest/id": .integer(Int64(row.integer(base + 1)))
                default: properties.first { $0.0 == component }?.1 ?? .null
                }
            }
            if groups[datastream] == nil { order.append(datastream) }
            groups[datastream, default: []].append(.array(values))
        }
        let value: [JSONValue] = order.map { datastream in
            let data = groups[datastream] ?? []
            return .object([
                ("Datastream@iot.navigationLink", .string("\(root)/Datastreams(\(datastream))")),
                ("components", .array(components.map(JSONValue.string))),
                ("dataArray@iot.count", .integer(Int64(data.count))),
                ("dataArray", .array(data)),
            ])
        }
        return JSONValue.object(header + [("value", .array(value))]).text
    }
}
