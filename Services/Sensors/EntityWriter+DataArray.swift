import Database
import SensorThings

/// The DataArray extension (OGC 18-088 section 14) for writing: `POST /v1.1/CreateObservations`
/// takes observations of one or more datastreams as rows of values. Each row is stored or answered
/// with `"error"` by itself, as the standard says; the request is one transaction, so a failure of
/// the store itself keeps none of it.
extension EntityWriter {
    /// The most rows one request may carry.
    static let maximumDataArrayRows = 200_000

    /// Stores the rows; answers each row's self link, or `"error"` for a row that does not fit.
    func createObservations(_ body: JSONValue) async throws -> [String] {
        guard case .array(let groups) = body else {
            throw SensorsError(.badRequest, "CreateObservations takes an array of {Datastream, components, dataArray}")
        }
        let parsed = try groups.enumerated().map { index, group in try Self.parseGroup(group, index: index) }
        let rows = parsed.reduce(0) { $0 + $1.rows.count }
        guard rows <= Self.maximumDataArrayRows else {
            throw SensorsError(.payloadTooLarge, "\(rows) rows in one request; at most \(Self.maximumDataArrayRows)")
        }
        let root = configuration.publicURL + "/v1.1"
        let (links, messages) = try await store.pool.withWriter { connection in
            try connection.transaction {
                var links: [String] = []
                var created: [Created] = []
                links.reserveCapacity(rows)
                for group in parsed {
                    let ids = try insert(group, on: connection)
                    links += ids.map { id in id.map { "\(root)/Observations(\($0))" } ?? "error" }
                    if mqtt != nil {
                        created += ids.compactMap { $0.map { Created(type: EntityModel.observation, id: $0) } }
                    }
                }
                let reader = EntityReader(store: store, configuration: configuration, now: now)
                return (links, mqtt == nil ? [] : try reader.creationMessages(created, on: connection))
            }
        }
        mqtt?.publish(messages)
        return links
    }

    struct DataArrayGroup: Sendable {
        var datastream: Int64
        var components: [String]
        var rows: [[JSONValue]]
    }

    static let writableComponents: Set<String> = [
        "phenomenonTime", "result", "resultTime", "resultQuality", "validTime", "parameters", "FeatureOfInterest/id",
    ]

    private static func parseGroup(_ group: JSONValue, index: Int) throws -> DataArrayGroup {
        let place = "CreateObservations[\(index)]"
        guard group.members != nil else { throw SensorsError(.badRequest, "\(place) must be an object") }
        guard case .integer(let datastream)? = group["Datastream"]?["@iot.id"], datastream > 0 else {
            throw SensorsError(.badRequest, "\(place) needs \"Datastream\": {\"@iot.id\": …}")
        }
        guard case .array(let names)? = group["components"] else {
            throw SensorsError(.badRequest, "\(place) needs \"components\", an array of property names")
        }
        let components = try names.map { name in
            guard let text = name.string, writableComponents.contains(text) else {
                throw SensorsError(
                    .badRequest,
                    "\(place).components: '\(name.string ?? name.text)' is not one of "
                        + writableComponents.sorted().joined(separator: ", "))
            }
            return text
        }
        guard Set(components).count == components.count, components.contains("result") else {
            throw SensorsError(.badRequest, "\(place).components must name each property once, result among them")
        }
        guard case .array(let rows)? = group["dataArray"] else {
            throw SensorsError(.badRequest, "\(place) needs \"dataArray\", an array of rows")
        }
        if let count = group["dataArray@iot.count"], count != .integer(Int64(rows.count)) {
            throw SensorsError(
                .badRequest, "\(place): dataArray@iot.count is \(count.text), but dataArray has \(rows.count) rows")
        }
        return DataArrayGroup(
            datastream: datastream, components: components,
            rows: rows.map { row in
                if case .array(let values) = row { return values }
                return []
            })
    }

    /// The group's rows: the id of each stored observation, nil for a row that did not fit.
    private func insert(_ group: DataArrayGroup, on connection: any SQLConnection) throws -> [Int64?] {
        let type = EntityModel.observation
        guard !(try connection.query("SELECT 1 FROM datastreams WHERE id = $1", .integer(group.datastream))).isEmpty
        else {
            throw SensorsError(
                .conflict, "there is no Datastream with @iot.id \(group.datastream) to add observations to")
        }
        let privacy = try privacy(of: group.datastream, on: connection)
        var features: [Int64: Bool] = [:]
        var generatedFeature: Int64?
        var earliest = Int64.max
        var latest = Int64.min
        var resultEarliest = Int64.max
        var resultLatest = Int64.min
        var ids: [Int64?] = []
        ids.reserveCapacity(group.rows.count)
        for row in group.rows {
            guard row.count == group.components.count else {
                ids.append(nil)
                continue
            }
            var columns: [(String, SQLValue)] = [("datastream_id", .integer(group.datastream))]
            var fits = true
            for (component, value) in zip(group.components, row) {
                if component == "FeatureOfInterest/id" {
                    guard case .integer(let feature) = value, feature > 0 else {
                        fits = false
                        break
                    }
                    if features[feature] == nil {
                        features[feature] =
                            !(try connection.query(
                                "SELECT 1 FROM features WHERE id = $1", .integer(feature))).isEmpty
                    }
                    guard features[feature] == true else {
                        fits = false
                        break
                    }
                    columns.append(("feature_id", .integer(feature)))
                } else if let property = type.property(component),
                    let values = try? values(of: property, value, in: type)
                {
                    columns += values
                } else {
                    fits = false
                    break
                }
            }
            guard fits else {
                ids.append(nil)
                continue
            }
            if !columns.contains(where: { $0.0 == "phenomenon_time_start" })
                || columns.first(where: {
                    $0.0 == "phenomenon_time_start"
                })?.1 == .null
            {
                columns.removeAll { $0.0 == "phenomenon_time_start" || $0.0 == "phenomenon_time_end" }
                columns += [("phenomenon_time_start", .integer(now())), ("phenomenon_time_end", .null)]
            }
            if !columns.contains(where: { $0.0 == "feature_id" }) {
                if generatedFeature == nil {
                    generatedFeature = try featureFromLocation(datastream: group.datastream, on: connection)
                }
                columns.append(("feature_id", .integer(generatedFeature!)))
            }
            let start = columns.first { $0.0 == "phenomenon_time_start" }?.1.integer.map(Int64.init) ?? now()
            let end = columns.first { $0.0 == "phenomenon_time_end" }?.1.integer.map(Int64.init) ?? start
            earliest = min(earliest, start)
            latest = max(latest, end)
            if let resultTime = columns.first(where: { $0.0 == "result_time" })?.1.integer.map(Int64.init) {
                resultEarliest = min(resultEarliest, resultTime)
                resultLatest = max(resultLatest, resultTime)
            }
            Self.suppressingSmallCounts(&columns, by: privacy)
            ids.append(try insertRow("observations", columns, on: connection))
        }
        if earliest <= latest {
            try widenDatastreamTimes(
                datastream: group.datastream, start: earliest, end: latest,
                resultTimes: resultEarliest <= resultLatest ? (resultEarliest, resultLatest) : nil, on: connection)
        }
        return ids
    }
}
