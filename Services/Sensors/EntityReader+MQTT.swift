import Database
import MQTT
import SensorThings

/// The "MQTT Receive" conformance class of SensorThings 1.1: every new entity is published, as GET
/// answers it, to its entity set's topic (`v1.1/Observations`) and to the navigation topic of each
/// entity it belongs to (`v1.1/Datastreams(7)/Observations`, `v1.1/FeaturesOfInterest(3)/Observations`);
/// a changed entity is published to its own topic (`v1.1/Datastreams(7)`).
extension EntityReader {
    /// Ids in one `IN (…)` list: far below SQLite's and PostgreSQL's parameter limits.
    static let publicationBatch = 500

    /// The messages that announce `created` (all of one request), read inside its transaction.
    func creationMessages(
        _ created: [EntityWriter.Created], on connection: any SQLConnection
    ) throws
        -> [MQTTClient.Message]
    {
        var messages: [MQTTClient.Message] = []
        var byType: [(EntityType, [Int64])] = []
        for entity in created {
            if let index = byType.firstIndex(where: { $0.0 == entity.type }) {
                byType[index].1.append(entity.id)
            } else {
                byType.append((entity.type, [entity.id]))
            }
        }
        for (type, ids) in byType {
            let parents: [(Navigation, EntityType, String)] = type.navigations.compactMap { navigation in
                guard case .parent(let foreignKey) = navigation.join,
                    let parent = EntityModel.type(named: navigation.target),
                    let inverse = parent.navigations.first(where: {
                        $0.target == type.name && $0.join == .children(foreignKey: foreignKey)
                    })
                else { return nil }
                return (navigation, parent, "/\(inverse.name)")
            }
            let columns = EntityCodec.columns(of: type)
            let foreignKeys = parents.compactMap { navigation, _, _ -> String? in
                guard case .parent(let foreignKey) = navigation.join else { return nil }
                return "e0.\(foreignKey)"
            }
            var start = 0
            while start < ids.count {
                let batch = ids[start..<min(start + Self.publicationBatch, ids.count)]
                start += batch.count
                let placeholders = (1...batch.count).map { "$\($0)" }.joined(separator: ", ")
                let rows = try connection.execute(
                    "SELECT \((columns + foreignKeys).joined(separator: ", ")) FROM \(type.table) e0"
                        + " WHERE e0.id IN (\(placeholders)) ORDER BY e0.id", batch.map { .integer($0) })
                for row in rows {
                    let payload = Array(
                        JSONValue.object(try render(type, row: row, options: QueryOptions(), on: connection)).text.utf8)
                    messages.append(MQTTClient.Message(topic: "v1.1/\(type.setName)", payload: payload))
                    for (index, (_, parent, navigation)) in parents.enumerated() {
                        guard let parentID = row.optionalInteger(columns.count + index) else { continue }
                        messages.append(
                            MQTTClient.Message(
                                topic: "v1.1/\(parent.setName)(\(parentID))\(navigation)", payload: payload))
                    }
                }
            }
        }
        return messages
    }

    /// The message that announces a change of the entity of `type` with `id`.
    func changeMessage(_ type: EntityType, id: Int64, on connection: any SQLConnection) throws -> MQTTClient.Message? {
        guard let entity = try fetch(type, scope: .all, id: id, options: nil, on: connection) else { return nil }
        return MQTTClient.Message(
            topic: "v1.1/\(type.setName)(\(id))", payload: Array(JSONValue.object(entity).text.utf8))
    }
}
