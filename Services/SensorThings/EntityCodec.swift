package import Database

/// Turns stored rows into SensorThings JSON and request JSON into column values, one entity type at
/// a time, from the model's storage descriptions.
package enum EntityCodec {
    /// The columns a row of `type` is read with, in order, after `id`.
    package static func columns(of type: EntityType) -> [String] {
        var columns = ["e0.id"]
        for property in type.properties {
            switch property.storage {
            case .id: continue
            case .text(let column), .json(let column), .time(let column), .geometry(let column, _):
                columns.append("e0.\(column)")
            case .interval(let start, let end):
                columns += ["e0.\(start)", "e0.\(end)"]
            case .result:
                columns.append("e0.result_json")
            }
        }
        return columns
    }

    /// The entity's properties from a row read with `columns(of:)`, each as `(name, value)`.
    /// With `selected`, members not in it are skipped rather than decoded (a JSON column costs a
    /// parse per row).
    package static func properties(
        of type: EntityType, row: SQLRow, selected: Set<String>? = nil
    ) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        var index = 1
        for property in type.properties {
            if let selected, property.storage != .id, !selected.contains(property.name) {
                if case .interval = property.storage { index += 2 } else { index += 1 }
                continue
            }
            switch property.storage {
            case .id:
                members.append(("@iot.id", .integer(Int64(row.integer(0)))))
            case .text:
                members.append((property.name, row.optionalText(index).map(JSONValue.string) ?? .null))
                index += 1
            case .json, .geometry, .result:
                let text = row.optionalText(index)
                members.append((property.name, text.flatMap { try? JSONParser.parse($0.utf8) } ?? .null))
                index += 1
            case .time:
                members.append(
                    (property.name, row[index].integer.map { .string(SensorTime.text(Int64($0))) } ?? .null))
                index += 1
            case .interval:
                let value: JSONValue =
                    row[index].integer.map {
                        .string(SensorTime.intervalText(start: Int64($0), end: row[index + 1].integer.map(Int64.init)))
                    } ?? .null
                members.append((property.name, value))
                index += 2
            }
        }
        return members
    }

    /// A property's value from a request, checked and converted to the values of its columns.
    package static func columnValues(
        of property: Property, _ value: JSONValue, in type: EntityType
    ) throws(SensorThingsInputError) -> [(String, SQLValue)] {
        func refuse(_ expected: String) -> SensorThingsInputError {
            SensorThingsInputError("\(type.name).\(property.name) must be \(expected), not \(value.text.prefix(60))")
        }
        if value == .null {
            guard !property.required else {
                throw SensorThingsInputError("\(type.name).\(property.name) must not be null")
            }
        }
        switch property.storage {
        case .id:
            throw SensorThingsInputError("\(type.name).@iot.id is given by the server")
        case .text(let column):
            if value == .null { return [(column, .null)] }
            guard let text = value.string else { throw refuse("a string") }
            return [(column, .text(text))]
        case .json(let column):
            if value == .null { return [(column, .null)] }
            if property.name == "properties" || property.name == "parameters" || property.name == "unitOfMeasurement" {
                guard value.members != nil else { throw refuse("a JSON object") }
            }
            return [(column, .text(value.text))]
        case .time(let column):
            if value == .null { return [(column, .null)] }
            guard let text = value.string, let milliseconds = SensorTime.milliseconds(text) else {
                throw refuse("an ISO 8601 instant such as 2026-12-06T10:15:00Z")
            }
            return [(column, .integer(milliseconds))]
        case .interval(let start, let end):
            if value == .null { return [(start, .null), (end, .null)] }
            guard let text = value.string, let interval = SensorTime.interval(text) else {
                throw refuse("an ISO 8601 instant or interval such as 2026-12-06T10:00:00Z/2026-12-06T11:00:00Z")
            }
            return [(start, .integer(interval.start)), (end, interval.end.map(SQLValue.integer) ?? .null)]
        case .geometry(let column, let prefix):
            if value == .null { return [(column, .null)] + boundingBoxColumns(prefix, nil) }
            guard let box = GeoJSON.boundingBox(of: value) else {
                throw refuse("a GeoJSON geometry or feature with coordinates (longitude, latitude)")
            }
            return [(column, .text(value.text))] + boundingBoxColumns(prefix, box)
        case .result:
            switch value {
            case .integer(let number):
                return resultColumns(type: 1, number: .real(Double(number)), string: .null, boolean: .null, value)
            case .number(let number):
                return resultColumns(type: 1, number: .real(number), string: .null, boolean: .null, value)
            case .string(let text):
                return resultColumns(type: 2, number: .null, string: .text(text), boolean: .null, value)
            case .bool(let flag):
                return resultColumns(type: 3, number: .null, string: .null, boolean: .integer(flag ? 1 : 0), value)
            case .null:
                return resultColumns(type: 0, number: .null, string: .null, boolean: .null, value)
            case .array, .object:
                return resultColumns(type: 4, number: .null, string: .null, boolean: .null, value)
            }
        }
    }

    private static func resultColumns(
        type: Int64, number: SQLValue, string: SQLValue, boolean: SQLValue, _ value: JSONValue
    ) -> [(String, SQLValue)] {
        [
            ("result_type", .integer(type)), ("result_number", number), ("result_string", string),
            ("result_boolean", boolean), ("result_json", .text(value.text)),
        ]
    }

    private static func boundingBoxColumns(_ prefix: String, _ box: GeoJSON.BoundingBox?) -> [(String, SQLValue)] {
        [
            ("\(prefix)_min_x", box.map { .real($0.minX) } ?? .null),
            ("\(prefix)_min_y", box.map { .real($0.minY) } ?? .null),
            ("\(prefix)_max_x", box.map { .real($0.maxX) } ?? .null),
            ("\(prefix)_max_y", box.map { .real($0.maxY) } ?? .null),
        ]
    }
}

/// A request body that does not fit the model: the message names the entity type and property.
package struct SensorThingsInputError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// What the store needs from GeoJSON: a geometry's bounding box, for spatial filters.
package enum GeoJSON {
    package struct BoundingBox: Sendable, Equatable {
        package var minX, minY, maxX, maxY: Double
    }

    /// The bounding box of a GeoJSON geometry, Feature or GeometryCollection; nil when it has no
    /// valid coordinates (positions of two or three finite numbers, longitude within ±180 and
    /// latitude within ±90).
    package static func boundingBox(of value: JSONValue) -> BoundingBox? {
        guard let kind = value["type"]?.string else { return nil }
        switch kind {
        case "Feature":
            return value["geometry"].flatMap(boundingBox(of:))
        case "GeometryCollection":
            guard case .array(let geometries)? = value["geometries"], !geometries.isEmpty else { return nil }
            var box: BoundingBox?
            for geometry in geometries {
                guard let inner = boundingBox(of: geometry) else { return nil }
                box = box.map { merged($0, inner) } ?? inner
            }
            return box
        case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
            guard let coordinates = value["coordinates"] else { return nil }
            var box: BoundingBox?
            guard collect(coordinates, into: &box, depth: 0) else { return nil }
            return box
        default:
            return nil
        }
    }

    private static func collect(_ value: JSONValue, into box: inout BoundingBox?, depth: Int) -> Bool {
        guard depth < 5, case .array(let items) = value, !items.isEmpty else { return false }
        if let x = items[0].double {
            guard (2...3).contains(items.count), let y = items[1].double, x.isFinite, y.isFinite, abs(x) <= 180,
                abs(y) <= 90
            else { return false }
            let point = BoundingBox(minX: x, minY: y, maxX: x, maxY: y)
            box = box.map { merged($0, point) } ?? point
            return true
        }
        return items.allSatisfy { collect($0, into: &box, depth: depth + 1) }
    }

    private static func merged(_ a: BoundingBox, _ b: BoundingBox) -> BoundingBox {
        BoundingBox(
            minX: min(a.minX, b.minX), minY: min(a.minY, b.minY), maxX: max(a.maxX, b.maxX), maxY: max(a.maxY, b.maxY))
    }
}
