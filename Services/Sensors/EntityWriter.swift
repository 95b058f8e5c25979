import Database
import MQTT
import SensorThings

/// Answers POST, PATCH, PUT and DELETE below `/v1.1`: creates entities with what they hold inline
/// (deep insert), links to existing ones by `@iot.id`, updates by JSON merge or JSON Patch, deletes
/// with the cascade the standard asks for. Each request is one transaction: on any error nothing of
/// it is stored.
struct EntityWriter: Sendable {
    let store: SensorStore
    let configuration: SensorsConfiguration
    /// Now, in milliseconds since 1970 (a parameter so tests can fix it).
    let now: @Sendable () -> Int64
    /// Where new and changed entities are announced, when a broker is configured.
    var mqtt: MQTTClient? = nil
    /// Called after a request that changed anything but observations is stored (the ingest
    /// mappings live in Datastreams).
    var changed: (@Sendable () -> Void)? = nil

    /// How a PATCH body is to be read.
    enum Change: Sendable {
        /// `application/json` or `application/merge-patch+json` (RFC 7396): the members given replace
        /// those stored; `null` removes an optional one.
        case merge(JSONValue)
        /// `application/json-patch+json` (RFC 6902): operations on the entity's properties.
        case patch(JSONValue)
        /// PUT: the whole entity anew.
        case replace(JSONValue)
    }

    /// An entity the request created, for the `Location` header and MQTT.
    struct Created: Sendable {
        var type: EntityType
        var id: Int64
    }

    /// A link the new entity gets to the entity whose navigation it was posted to.
    private struct Link {
        var navigation: Navigation
        var owner: EntityType
        var ownerID: Int64
        /// Whether linking a Location to a Thing records a HistoricalLocation by itself (a deep
        /// insert records one for all its Locations together instead).
        var recordsHistory = true
    }

    // MARK: Create

    /// Creates the entity; answers it as `GET` would, read on the same connection once stored
    /// (one trip to the store's threads rather than two).
    func create(_ body: JSONValue, at path: ResourcePath) async throws -> (created: Created, entity: String) {
        let (created, messages, entity) = try await store.pool.withWriter { connection in
            let (created, messages) = try connection.transaction {
                let reader = EntityReader(store: store, configuration: configuration, now: now)
                guard path.property == nil, !path.referencesOnly, !path.namesOneEntity, path.last.id == nil else {
                    throw SensorsError(.methodNotAllowed, "POST goes to an entity set or a navigation to many entities")
                }
                var link: Link?
                if path.steps.count > 1, let navigation = path.last.navigation {
                    var owner = path
                    owner.steps.removeLast()
                    let (_, ownerID) = try reader.resolve(owner, on: connection)
                    guard let ownerID else { throw SensorsError(.notFound, "the entity to post to does not exist") }
                    link = Link(navigation: navigation, owner: owner.last.type, ownerID: ownerID)
                }
                var created: [Created] = []
                let id = try insert(path.last.type, body, link: link, created: &created, on: connection)
                let messages = mqtt == nil ? [] : try reader.creationMessages(created, on: connection)
                return (Created(type: path.last.type, id: id), messages)
            }
            let reader = EntityReader(store: store, configuration: configuration, now: now)
            guard
                let entity = try reader.fetch(
                    created.type, scope: .all, id: created.id,
                    options: try reader.parseOptions([], for: created.type), on: connection)
            else { throw SensorsError(.notFound, "the new \(created.type.name) was deleted meanwhile") }
            return (created, messages, JSONValue.object(entity).text)
        }
        // Announced only once stored: a subscriber never hears of an entity that is not there.
        mqtt?.publish(messages)
        if created.type != EntityModel.observation { changed?() }
        return (created, entity)
    }

    /// Inserts `value` as a new entity of `type` (or links an existing one given by `@iot.id`) with
    /// everything it holds inline; returns its id.
    private func insert(
        _ type: EntityType, _ value: JSONValue, link: Link?, created: inout [Created], on connection: any SQLConnection
    ) throws -> Int64 {
        guard let members = value.members else {
            throw SensorsError(.badRequest, "a \(type.name) must be a JSON object, not \(value.text.prefix(40))")
        }
        if let reference = value["@iot.id"] {
            let id = try Self.existing(type, reference, on: connection)
            if let link { try connect(id, of: type, to: link, on: connection) }
            return id
        }
        var columns: [(String, SQLValue)] = []
        var toMany: [(Navigation, [JSONValue])] = []
        for (key, member) in members {
            if key.hasSuffix("@iot.navigationLink") || key == "@iot.selfLink" { continue }
            if let property = type.property(key) {
                columns += try values(of: property, member, in: type)
            } else if let navigation = type.navigation(key), let target = EntityModel.type(named: navigation.target) {
                if case .parent(let foreignKey) = navigation.join {
                    let id = try insert(target, member, link: nil, created: &created, on: connection)
                    columns.append((foreignKey, .integer(id)))
                } else {
                    guard case .array(let items) = member else {
                        throw SensorsError(.badRequest, "\(type.name).\(key) must be an array of \(target.setName)")
                    }
                    toMany.append((navigation, items))
                }
            } else {
                throw SensorsError(
                    .badRequest,
                    "a \(type.name) has no property '\(key)'; it has "
                        + (type.properties.dropFirst().map(\.name) + type.navigations.map(\.name)).joined(
                            separator: ", "))
            }
        }
        for property in type.properties where property.required && value[property.name] == nil {
            throw SensorsError(.badRequest, "a \(type.name) needs \(property.name)")
        }
        if type == EntityModel.observation, value["phenomenonTime"] == nil || value["phenomenonTime"] == .null {
            columns.removeAll { $0.0 == "phenomenon_time_start" || $0.0 == "phenomenon_time_end" }
            columns += [("phenomenon_time_start", .integer(now())), ("phenomenon_time_end", .null)]
        }
        if let link, case .children(let foreignKey) = link.navigation.join {
            columns.removeAll { $0.0 == foreignKey }
            columns.append((foreignKey, .integer(link.ownerID)))
        }
        try requireParents(of: type, columns: &columns, on: connection)
        if type == EntityModel.observation,
            let datastream = columns.first(where: { $0.0 == "datastream_id" })?.1.integer
        {
            Self.suppressingSmallCounts(&columns, by: try privacy(of: Int64(datastream), on: connection))
        }
        let id = try insertRow(type.table, columns, on: connection)
        created.append(Created(type: type, id: id))
        if let link, case .link = link.navigation.join { try connect(id, of: type, to: link, on: connection) }
        var linkedLocations: [Int64] = []
        for (navigation, items) in toMany {
            guard let target = EntityModel.type(named: navigation.target) else { continue }
            for item in items {
                let childID = try insert(
                    target, item, link: Link(navigation: navigation, owner: type, ownerID: id, recordsHistory: false),
                    created: &created, on: connection)
                if type == EntityModel.thing && target == EntityModel.location { linkedLocations.append(childID) }
            }
        }
        if !linkedLocations.isEmpty {
            try recordHistoricalLocation(thing: id, locations: linkedLocations, on: connection)
        }
        if type == EntityModel.observation {
            func time(_ name: String) -> Int64? { columns.first { $0.0 == name }?.1.integer.map(Int64.init) }
            if let datastream = time("datastream_id"), let start = time("phenomenon_time_start") {
                try widenDatastreamTimes(
                    datastream: datastream, start: start, end: time("phenomenon_time_end") ?? start,
                    resultTimes: time("result_time").map { ($0, $0) }, on: connection)
            }
        }
        return id
    }

    /// A property's columns, after the service's privacy rules. A Datastream's rules in its
    /// properties (ingest, alerts, privacy) are checked here, so a wrong one is refused when written
    /// rather than quietly ignored later.
    func values(of property: Property, _ member: JSONValue, in type: EntityType) throws -> [(String, SQLValue)] {
        let member = configuration.privacy.apply(to: member, property: property.name, of: type)
        if type == EntityModel.datastream && property.name == "properties" && member != .null {
            do {
                _ = try DatastreamPrivacy.from(datastream: nil, properties: member)
                _ = try AlertRules.from(datastream: 0, properties: member)
                _ = try IngestMapping.from(datastream: 0, properties: member)
            } catch {
                throw SensorsError(
                    .badRequest, error.message.replacingOccurrences(of: "Datastream 0 ", with: "Datastream "))
            }
        }
        do {
            return try EntityCodec.columnValues(of: property, member, in: type)
        } catch {
            throw SensorsError(.badRequest, error.description)
        }
    }

    /// The privacy rules of `datastream`, read from its properties (checked when they were written).
    func privacy(of datastream: Int64, on connection: any SQLConnection) throws -> DatastreamPrivacy? {
        guard
            let text = try connection.execute(
                "SELECT properties FROM datastreams WHERE id = $1", [.integer(datastream)]
            )
            .first?.optionalText(0), text.contains("\"privacy\""),
            let properties = try? JSONParser.parse(Array(text.utf8))
        else { return nil }
        return try? DatastreamPrivacy.from(datastream: datastream, properties: properties)
    }

    /// An observation's columns with a count below the Datastream's minimum replaced by null and
    /// marked, before it is stored.
    static func suppressingSmallCounts(_ columns: inout [(String, SQLValue)], by rules: DatastreamPrivacy?) {
        guard let rules, rules.minimumCount != nil,
            let index = columns.firstIndex(where: { $0.0 == "result_number" }),
            case .real(let value) = columns[index].1, rules.suppresses(value)
        else { return }
        let replaced: [(String, SQLValue)] = [
            ("result_type", .integer(0)), ("result_number", .null), ("result_string", .null), ("result_boolean", .null),
            ("result_json", .text("null")), ("result_quality", .text(DatastreamPrivacy.suppressedQuality.text)),
        ]
        columns.removeAll { column in replaced.contains { $0.0 == column.0 } }
        columns += replaced
    }

    /// The id of the existing entity `reference` names, or a conflict: a link to nothing would break
    /// the data's integrity.
    private static func existing(
        _ type: EntityType, _ reference: JSONValue, on connection: any SQLConnection
    ) throws
        -> Int64
    {
        guard case .integer(let id) = reference, id > 0 else {
            throw SensorsError(
                .badRequest, "\(type.name) @iot.id must be a positive integer, not \(reference.text.prefix(40))")
        }
        guard !(try connection.query("SELECT 1 FROM \(type.table) WHERE id = $1", .integer(id))).isEmpty else {
            throw SensorsError(.conflict, "there is no \(type.name) with @iot.id \(id) to link to")
        }
        return id
    }

    /// Links the entity `id` to `link.owner` through the owner's navigation.
    private func connect(_ id: Int64, of type: EntityType, to link: Link, on connection: any SQLConnection) throws {
        switch link.navigation.join {
        case .children(let foreignKey):
            try connection.run(
                "UPDATE \(type.table) SET \(foreignKey) = $1 WHERE id = $2", .integer(link.ownerID), .integer(id))
        case .link(let table, let here, let there):
            try connection.run(
                "INSERT INTO \(table) (\(here), \(there)) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                .integer(link.ownerID),
                .integer(id))
            if link.recordsHistory && link.owner == EntityModel.thing && type == EntityModel.location {
                try recordHistoricalLocation(thing: link.ownerID, locations: [id], on: connection)
            }
        case .parent:
            throw SensorsError(
                .methodNotAllowed, "\(link.navigation.name) is one entity; PATCH the \(link.owner.name) to change it")
        }
    }

    /// Checks that the entity names every parent it must have, filling in an Observation's
    /// FeatureOfInterest from its Thing's Location when it gives none (as the standard asks).
    private func requireParents(
        of type: EntityType, columns: inout [(String, SQLValue)], on connection: any SQLConnection
    )
        throws
    {
        for navigation in type.navigations {
            guard case .parent(let foreignKey) = navigation.join, !columns.contains(where: { $0.0 == foreignKey })
            else {
                continue
            }
            if type == EntityModel.observation, navigation.name == "FeatureOfInterest",
                let datastream = columns.first(where: { $0.0 == "datastream_id" })?.1.integer
            {
                columns.append(
                    (foreignKey, .integer(try featureFromLocation(datastream: Int64(datastream), on: connection))))
                continue
            }
            throw SensorsError(
                .badRequest, "a \(type.name) needs its \(navigation.name) (inline, or as {\"@iot.id\": …})")
        }
    }

    /// The FeatureOfInterest made from the first Location of the datastream's Thing, made once.
    func featureFromLocation(datastream: Int64, on connection: any SQLConnection) throws -> Int64 {
        // Made already, for every reading but the first: one statement.
        if let made = try connection.query(
            """
            SELECT f.id FROM datastreams d JOIN things_locations tl ON tl.thing_id = d.thing_id
            LEFT JOIN features f ON f.from_location = tl.location_id WHERE d.id = $1 ORDER BY tl.location_id LIMIT 1
            """, .integer(datastream)
        ).first?.optionalInteger(0) {
            return Int64(made)
        }
        guard
            let location = try connection.query(
                """
                SELECT l.id, l.name, l.description, l.encoding_type, l.location, l.location_min_x, l.location_min_y,
                    l.location_max_x, l.location_max_y
                FROM datastreams d JOIN things_locations tl ON tl.thing_id = d.thing_id
                JOIN locations l ON l.id = tl.location_id WHERE d.id = $1 ORDER BY l.id LIMIT 1
                """, .integer(datastream)
            ).first
        else {
            throw SensorsError(
                .badRequest,
                "an Observation needs a FeatureOfInterest: give one, or give the Thing of Datastream(\(datastream)) a Location"
            )
        }
        let locationID = location[0]
        if let existing = try connection.query("SELECT id FROM features WHERE from_location = $1", locationID).first {
            return Int64(existing.integer(0))
        }
        return try insertRow(
            "features",
            [
                ("name", location[1]), ("description", location[2]), ("encoding_type", location[3]),
                ("feature", location[4]), ("feature_min_x", location[5]), ("feature_min_y", location[6]),
                ("feature_max_x", location[7]), ("feature_max_y", location[8]), ("from_location", locationID),
            ], on: connection)
    }

    private func recordHistoricalLocation(thing: Int64, locations: [Int64], on connection: any SQLConnection) throws {
        let historical = try insertRow(
            "historical_locations", [("time", .integer(now())), ("thing_id", .integer(thing))], on: connection)
        for location in locations {
            try connection.run(
                "INSERT INTO locations_historical_locations (location_id, historical_location_id) VALUES ($1, $2)",
                .integer(location), .integer(historical))
        }
    }

    /// A datastream's phenomenon and result times span all its observations: widened to take in an
    /// observation (or a batch of them) from `start` to `end`, with result times in `resultTimes`.
    func widenDatastreamTimes(
        datastream: Int64, start: Int64, end: Int64, resultTimes: (Int64, Int64)?, on connection: any SQLConnection
    ) throws {
        try connection.run(
            """
            UPDATE datastreams SET
                phenomenon_time_start = CASE WHEN phenomenon_time_start IS NULL OR $2 < phenomenon_time_start
                    THEN $2 ELSE phenomenon_time_start END,
                phenomenon_time_end = CASE WHEN phenomenon_time_end IS NULL OR $3 > phenomenon_time_end
                    THEN $3 ELSE phenomenon_time_end END
            WHERE id = $1
            """, .integer(datastream), .integer(start), .integer(end))
        guard let (earliest, latest) = resultTimes else { return }
        try connection.run(
            """
            UPDATE datastreams SET
                result_time_start = CASE WHEN result_time_start IS NULL OR $2 < result_time_start
                    THEN $2 ELSE result_time_start END,
                result_time_end = CASE WHEN result_time_end IS NULL OR $3 > result_time_end
                    THEN $3 ELSE result_time_end END
            WHERE id = $1
            """, .integer(datastream), .integer(earliest), .integer(latest))
    }

    func insertRow(
        _ table: String, _ columns: [(String, SQLValue)], on connection: any SQLConnection
    ) throws
        -> Int64
    {
        var columns = columns
        if connection.dialect == .sqlite, SensorStore.idsNeverReused.contains(table),
            let next = try connection.query(
                """
                UPDATE issued_ids SET last = MAX(last, COALESCE((SELECT MAX(id) FROM \(table)), 0)) + 1
                WHERE entity = $1 RETURNING last
                """, .text(table)
            ).first?.optionalInteger(0)
        {
            columns.insert(("id", .integer(Int64(next))), at: 0)
        }
        let placeholders = columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        let sql =
            "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(placeholders)) RETURNING id"
        guard let id = try connection.execute(sql, columns.map(\.1)).first?.optionalInteger(0) else {
            throw SensorsError(.badRequest, "the store gave no id for the new row in \(table)")
        }
        return Int64(id)
    }

    // MARK: Update

    func update(_ change: Change, at path: ResourcePath) async throws {
        let message = try await store.pool.withWriter { connection in
            try connection.transaction {
                let reader = EntityReader(store: store, configuration: configuration, now: now)
                guard path.property == nil, path.namesOneEntity, !path.referencesOnly else {
                    throw SensorsError(.methodNotAllowed, "PATCH and PUT go to one entity, as Things(1)")
                }
                let (_, resolved) = try reader.resolve(path, on: connection)
                guard let id = resolved else { throw SensorsError(.notFound, "no such entity") }
                let type = path.last.type
                guard let stored = try reader.fetch(type, scope: .all, id: id, options: nil, on: connection) else {
                    throw SensorsError(.notFound, "no \(type.name) with @iot.id \(id)")
                }
                let current = JSONValue.object(
                    stored.filter { key, _ in type.property(key) != nil && key != "@iot.id" })
                let updated: JSONValue
                var navigations: [(String, JSONValue)] = []
                switch change {
                case .merge(let body), .replace(let body):
                    guard let members = body.members else {
                        throw SensorsError(.badRequest, "the body must be a JSON object")
                    }
                    var plain: [(String, JSONValue)] = []
                    for (key, value) in members {
                        if type.navigation(key) != nil {
                            navigations.append((key, value))
                        } else if key == "@iot.id" {
                            guard value == .integer(id) else {
                                throw SensorsError(.badRequest, "@iot.id cannot be changed")
                            }
                        } else if type.property(key) != nil {
                            plain.append((key, value))
                        } else if !key.hasSuffix("@iot.navigationLink") && key != "@iot.selfLink" {
                            throw SensorsError(.badRequest, "a \(type.name) has no property '\(key)'")
                        }
                    }
                    if case .replace = change {
                        updated = .object(plain)
                    } else {
                        updated = JSONMerge.merge(current, patch: .object(plain))
                    }
                case .patch(let operations):
                    do {
                        updated = try JSONPatch.apply(operations, to: current)
                    } catch {
                        throw SensorsError(.badRequest, "\(error)")
                    }
                }
                var columns: [(String, SQLValue)] = []
                for property in type.properties where property.storage != .id {
                    let value = updated[property.name] ?? .null
                    if property.required && value == .null {
                        throw SensorsError(.badRequest, "a \(type.name) needs \(property.name)")
                    }
                    columns += try values(of: property, value, in: type)
                }
                for (key, value) in navigations {
                    try relink(type, id: id, navigation: key, to: value, columns: &columns, on: connection)
                }
                if type == EntityModel.observation {
                    var datastream = columns.first { $0.0 == "datastream_id" }?.1.integer
                    if datastream == nil {
                        datastream = try connection.execute(
                            "SELECT datastream_id FROM observations WHERE id = $1", [.integer(id)]
                        ).first?.integer(0)
                    }
                    if let datastream {
                        Self.suppressingSmallCounts(&columns, by: try privacy(of: Int64(datastream), on: connection))
                    }
                }
                let assignments = columns.indices.map { "\(columns[$0].0) = $\($0 + 2)" }.joined(separator: ", ")
                try connection.execute(
                    "UPDATE \(type.table) SET \(assignments) WHERE id = $1", [.integer(id)] + columns.map(\.1))
                return mqtt == nil ? nil : try reader.changeMessage(type, id: id, on: connection)
            }
        }
        if let message { mqtt?.publish([message]) }
        if path.last.type != EntityModel.observation { changed?() }
    }

    /// A navigation in a PATCH body: a to-one one points elsewhere; a many-to-many one is replaced.
    private func relink(
        _ type: EntityType, id: Int64, navigation name: String, to value: JSONValue,
        columns: inout [(String, SQLValue)],
        on connection: any SQLConnection
    ) throws {
        guard let navigation = type.navigation(name), let target = EntityModel.type(named: navigation.target) else {
            return
        }
        switch navigation.join {
        case .parent(let foreignKey):
            guard let reference = value["@iot.id"] else {
                throw SensorsError(.badRequest, "\(type.name).\(name) in a PATCH is a reference: {\"@iot.id\": …}")
            }
            columns.append((foreignKey, .integer(try Self.existing(target, reference, on: connection))))
        case .link(let table, let here, let there):
            guard case .array(let items) = value else {
                throw SensorsError(.badRequest, "\(type.name).\(name) must be an array of references")
            }
            let ids = try items.map { item in
                guard let reference = item["@iot.id"] else {
                    throw SensorsError(
                        .badRequest, "\(type.name).\(name) in a PATCH holds references: {\"@iot.id\": …}")
                }
                return try Self.existing(target, reference, on: connection)
            }
            try connection.run("DELETE FROM \(table) WHERE \(here) = $1", .integer(id))
            for other in ids {
                try connection.run(
                    "INSERT INTO \(table) (\(here), \(there)) VALUES ($1, $2)", .integer(id), .integer(other))
            }
            if type == EntityModel.thing && target == EntityModel.location && !ids.isEmpty {
                try recordHistoricalLocation(thing: id, locations: ids, on: connection)
            }
        case .children:
            throw SensorsError(
                .badRequest, "\(type.name).\(name) cannot be changed here; change the \(target.name) instead")
        }
    }

    // MARK: Delete

    func delete(at path: ResourcePath) async throws {
        try await store.pool.withWriter { connection in
            try connection.transaction {
                let reader = EntityReader(store: store, configuration: configuration, now: now)
                guard path.property == nil, path.namesOneEntity, !path.referencesOnly else {
                    throw SensorsError(.methodNotAllowed, "DELETE goes to one entity, as Things(1)")
                }
                let (_, resolved) = try reader.resolve(path, on: connection)
                guard let id = resolved else { throw SensorsError(.notFound, "no such entity") }
                try connection.run("DELETE FROM \(path.last.type.table) WHERE id = $1", .integer(id))
            }
        }
        if path.last.type != EntityModel.observation { changed?() }
    }
}
