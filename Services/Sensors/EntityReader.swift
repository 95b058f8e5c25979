import Database
import SensorThings

/// Answers GET requests below `/v1.1` from the store: collections with `$filter`, `$orderby`,
/// paging and `$count`, single entities and properties, `$select` and nested `$expand`, self and
/// navigation links on every entity.
struct EntityReader: Sendable {
    let store: SensorStore
    let configuration: SensorsConfiguration
    /// Now, in milliseconds since 1970, for `now()` in filters.
    let now: @Sendable () -> Int64
    /// `https://host/sensoren/v1.1`: every link starts with it.
    var root: String { configuration.publicURL + "/v1.1" }

    /// Where a collection comes from: every entity of a set, or those one entity links to.
    enum Scope {
        case all
        /// Followed `navigation` from the entity `id` of `owner`.
        case navigation(Navigation, from: EntityType, id: Int64)
    }

    /// The answer to `path` with `query` (the request's query parameters) as JSON text, or nil when
    /// the path names an entity that does not exist.
    func read(_ path: ResourcePath, query: [(String, String)], requestPath: String) async throws -> String {
        let query = query.map { QueryPair(name: $0.0, value: $0.1) }
        return try await store.pool.withConnection { connection in
            let query = query.map { ($0.name, $0.value) }
            let (scope, id) = try resolve(path, on: connection)
            let type = path.last.type
            let options = try parseOptions(query, for: type)
            if options.resultFormat == .dataArray {
                guard !path.namesOneEntity, path.property == nil, !path.referencesOnly else {
                    throw SensorsError(.badRequest, "$resultFormat=dataArray is for a collection of Observations")
                }
                return try dataArray(
                    scope: scope, options: options, on: connection, nextLinkBase: root + requestPath, query: query)
            }
            if let property = path.property {
                guard let id, let entity = try fetch(type, scope: .all, id: id, options: nil, on: connection) else {
                    throw SensorsError(.notFound, "no \(type.name) at \(requestPath)")
                }
                let value =
                    entity.first { $0.0 == (property.name == "@iot.id" ? "@iot.id" : property.name) }?.1 ?? .null
                if path.rawValue {
                    return value.string ?? value.text
                }
                return JSONValue.object([(property.name, value)]).text
            }
            if path.namesOneEntity {
                guard let entity = try fetch(type, scope: scope, id: id, options: options, on: connection) else {
                    throw SensorsError(.notFound, "no \(type.name) at \(requestPath)")
                }
                return JSONValue.object(entity).text
            }
            let page = try collection(
                type, scope: scope, options: options, on: connection, nextLinkBase: root + requestPath,
                query: query)
            if path.referencesOnly {
                let links: [JSONValue] = page.entities.compactMap { entity in
                    entity.first { $0.0 == "@iot.selfLink" }.map { .object([("@iot.selfLink", $0.1)]) }
                }
                return JSONValue.object(page.header + [("value", .array(links))]).text
            }
            return JSONValue.object(page.header + [("value", .array(page.entities.map(JSONValue.object)))]).text
        }
    }

    /// Follows the path's steps to the scope of its last step; for a path naming one entity, also
    /// its id (nil for a to-one navigation whose target is resolved in `fetch`). Every entity named
    /// on the way must exist and be linked to the one before it.
    func resolve(_ path: ResourcePath, on connection: any SQLConnection) throws -> (Scope, Int64?) {
        var scope = Scope.all
        var previous: (EntityType, Int64)?
        for step in path.steps {
            if let (owner, ownerID) = previous, let navigation = step.navigation {
                scope = .navigation(navigation, from: owner, id: ownerID)
            }
            var id = step.id
            if id == nil, step.navigation?.toOne == true,
                case .navigation(let navigation, let owner, let ownerID) = scope,
                case .parent(let foreignKey) = navigation.join
            {
                id = try connection.query(
                    "SELECT \(foreignKey) FROM \(owner.table) WHERE id = $1", .integer(ownerID)
                ).first?.optionalInteger(0).map(Int64.init)
                guard id != nil else {
                    throw SensorsError(.notFound, "\(owner.name)(\(ownerID)) has no \(navigation.name)")
                }
            }
            guard let id else { return (scope, nil) }
            var parameters: [SQLValue] = [.integer(id)]
            let condition = ["e0.id = $1"] + Self.scopeCondition(scope, parameters: &parameters)
            let found = try connection.execute(
                "SELECT 1 FROM \(step.type.table) e0 WHERE \(condition.joined(separator: " AND "))", parameters)
            guard !found.isEmpty else {
                throw SensorsError(.notFound, "no \(step.type.name) with @iot.id \(id) there")
            }
            previous = (step.type, id)
            scope = .all
        }
        return (scope, previous?.1)
    }

    /// The SQL condition that limits `e0` to `scope`, with its parameters appended.
    static func scopeCondition(_ scope: Scope, parameters: inout [SQLValue]) -> [String] {
        guard case .navigation(let navigation, let owner, let id) = scope else { return [] }
        parameters.append(.integer(id))
        let placeholder = "$\(parameters.count)"
        switch navigation.join {
        case .children(let foreignKey):
            return ["e0.\(foreignKey) = \(placeholder)"]
        case .link(let table, let here, let there):
            return ["e0.id IN (SELECT \(there) FROM \(table) WHERE \(here) = \(placeholder))"]
        case .parent(let foreignKey):
            return ["e0.id = (SELECT \(foreignKey) FROM \(owner.table) WHERE id = \(placeholder))"]
        }
    }

    /// A query parameter that can cross into the store's queue.
    struct QueryPair: Sendable {
        var name: String
        var value: String
    }

    struct Page {
        var header: [(String, JSONValue)]
        var entities: [[(String, JSONValue)]]
    }

    /// One page of a collection, with `@iot.count` when asked and `@iot.nextLink` when more follow.
    func collection(
        _ type: EntityType, scope: Scope, options: QueryOptions, on connection: any SQLConnection,
        nextLinkBase: String?, query: [(String, String)]
    ) throws -> Page {
        let (header, rows) = try page(
            type, scope: scope, options: options, on: connection, nextLinkBase: nextLinkBase, query: query)
        var entities: [[(String, JSONValue)]] = []
        for row in rows {
            entities.append(try render(type, row: row, options: options, on: connection))
        }
        return Page(header: header, entities: entities)
    }

    /// The rows of one page (read with `EntityCodec.columns(of:)` and then `extraColumns`), and the
    /// page's `@iot.count` and `@iot.nextLink`.
    func page(
        _ type: EntityType, scope: Scope, options: QueryOptions, on connection: any SQLConnection,
        nextLinkBase: String?, query: [(String, String)], extraColumns: [String] = []
    ) throws -> (header: [(String, JSONValue)], rows: ArraySlice<SQLRow>) {
        var parameters: [SQLValue] = []
        var conditions = Self.scopeCondition(scope, parameters: &parameters)
        var compiler = FilterSQL(
            for: type, dialect: connection.dialect, firstParameter: parameters.count + 1, nowMilliseconds: now())
        let ordering: String
        do {
            if options.filter != nil { conditions.append(try compiler.condition(options.filter)) }
            ordering = try compiler.orderBy(options.orderBy)
        } catch {
            throw SensorsError(.badRequest, error.description)
        }
        parameters += compiler.parameters
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        var header: [(String, JSONValue)] = []
        if options.count {
            let counted = try connection.execute("SELECT COUNT(*) FROM \(type.table) e0\(whereClause)", parameters)
            header.append(("@iot.count", .integer(Int64(counted.first?.integer(0) ?? 0))))
        }
        let top = min(options.top ?? configuration.defaultPageSize, configuration.maximumPageSize)
        let columns = EntityCodec.columns(of: type) + extraColumns
        let rows = try connection.execute(
            "SELECT \(columns.joined(separator: ", ")) FROM \(type.table) e0\(whereClause)"
                + " ORDER BY \(ordering) LIMIT \(top + 1) OFFSET \(options.skip)", parameters)
        if rows.count > top, let nextLinkBase {
            let link = Self.nextLink(nextLinkBase, query: query, skip: options.skip + top, top: top)
            header.append(("@iot.nextLink", .string(link)))
        }
        return (header, rows.prefix(top))
    }

    /// One entity of `type` in `scope` (by `id`, or the only one a to-one navigation leads to).
    func fetch(
        _ type: EntityType, scope: Scope, id: Int64?, options: QueryOptions?, on connection: any SQLConnection
    ) throws -> [(String, JSONValue)]? {
        var parameters: [SQLValue] = []
        var conditions = Self.scopeCondition(scope, parameters: &parameters)
        if let id {
            parameters.append(.integer(id))
            conditions.append("e0.id = $\(parameters.count)")
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        guard
            let row = try connection.execute(
                "SELECT \(EntityCodec.columns(of: type).joined(separator: ", ")) FROM \(type.table) e0\(whereClause) LIMIT 1",
                parameters
            ).first
        else { return nil }
        return try render(type, row: row, options: options ?? QueryOptions(), on: connection)
    }

    /// An entity as JSON members: `@iot.id`, `@iot.selfLink`, the (selected) properties, navigation
    /// links, and what `$expand` asks for inline.
    func render(
        _ type: EntityType, row: SQLRow, options: QueryOptions, on connection: any SQLConnection
    ) throws -> [(String, JSONValue)] {
        let id = Int64(row.integer(0))
        let selfLink = "\(root)/\(type.setName)(\(id))"
        let selected = options.select.map(Set.init)
        var members: [(String, JSONValue)] = []
        for (name, value) in EntityCodec.properties(of: type, row: row, selected: selected) {
            if name == "@iot.id" {
                if selected == nil || selected!.contains("id") || selected!.contains("@iot.id") {
                    members.append((name, value))
                }
                members.append(("@iot.selfLink", .string(selfLink)))
            } else if value != .null && (selected == nil || selected!.contains(name)) {
                // Absent values are left out, as FROST-Server does: clients read a missing member as
                // unset, and some refuse a null where they expect an object.
                members.append((name, value))
            }
        }
        for navigation in type.navigations {
            let expansion = options.expand.first { $0.navigation == navigation.name }
            if selected == nil || selected!.contains(navigation.name) || expansion != nil {
                members.append(("\(navigation.name)@iot.navigationLink", .string("\(selfLink)/\(navigation.name)")))
            }
            guard let expansion, let target = EntityModel.type(named: navigation.target) else { continue }
            let scope = Scope.navigation(navigation, from: type, id: id)
            if navigation.toOne {
                if let entity = try fetch(target, scope: scope, id: nil, options: expansion.options, on: connection) {
                    members.append((navigation.name, .object(entity)))
                }
            } else {
                let page = try collection(
                    target, scope: scope, options: expansion.options, on: connection,
                    nextLinkBase: "\(selfLink)/\(navigation.name)", query: [])
                for (key, value) in page.header {
                    members.append(("\(navigation.name)\(key)", value))
                }
                members.append((navigation.name, .array(page.entities.map(JSONValue.object))))
            }
        }
        return members
    }

    func parseOptions(_ query: [(String, String)], for type: EntityType) throws -> QueryOptions {
        do {
            return try QueryOptions(parameters: query, for: type)
        } catch {
            throw SensorsError(.badRequest, error.description)
        }
    }

    /// The request again with `$skip` (and `$top`) moved on to the next page.
    static func nextLink(_ base: String, query: [(String, String)], skip: Int, top: Int) -> String {
        var pairs = query.filter { $0.0 != "$skip" && $0.0 != "$top" }
        pairs.append(("$top", String(top)))
        pairs.append(("$skip", String(skip)))
        return base + "?" + pairs.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
    }

    static func percentEncoded(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"), UInt8(ascii: "$"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "/"),
                UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "'"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                output += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return output
    }
}
