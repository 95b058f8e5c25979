import Foundation
import HTTPTransport

/// Writes to the sensor service through its SensorThings API, as any SensorThings client does: finds
/// entities by a filter, makes them when missing, and sends observations as DataArray rows.
struct SensorThingsWriter: Sendable {
    /// The sensor service without `/v1.1`.
    let baseURL: String
    let token: String
    let http: HTTPExchange

    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The sensor service no longer has a datastream the rows were meant for (`409`).
        var datastreamMissing = false
    }

    private var headers: [(String, String)] {
        [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
    }

    /// `'text'` as an OData string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// The id of the first entity of `collection` that `filter` selects, or nil.
    func id(in collection: String, where filter: String) async throws -> Int64? {
        let page = try await get(collection, ["$filter": filter, "$select": "id", "$top": "1", "$orderby": "id"])
        guard let values = page["value"] as? [[String: Any]] else {
            throw Failure(description: "\(collection) is not a SensorThings page")
        }
        return values.first.flatMap { ($0["@iot.id"] as? NSNumber)?.int64Value }
    }

    /// Makes an entity of `collection` and answers its id.
    func create(_ collection: String, _ entity: [String: Any]) async throws -> Int64 {
        let answer = try await http.fetch(
            "\(baseURL)/v1.1/\(collection)", method: .POST, headers: headers,
            body: try JSONSerialization.data(withJSONObject: entity), timeout: .seconds(15), limit: 1 << 20)
        guard answer.status == 201,
            let created = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any],
            let id = (created["@iot.id"] as? NSNumber)?.int64Value
        else {
            throw Failure(description: "POST \(collection) answered HTTP \(answer.status): \(answer.text.prefix(300))")
        }
        return id
    }

    /// The entity of `collection` that `filter` selects, made from `entity` when there is none.
    func ensure(_ collection: String, where filter: String, _ entity: () -> [String: Any]) async throws -> Int64 {
        if let id = try await id(in: collection, where: filter) { return id }
        return try await create(collection, entity())
    }

    /// Merges `properties` into a datastream's (RFC 7396), so a changed rule (a privacy minimum)
    /// reaches one that was made before.
    func update(datastream id: Int64, properties: [String: Any]) async throws {
        let answer = try await http.fetch(
            "\(baseURL)/v1.1/Datastreams(\(id))", method: .PATCH, headers: headers,
            body: try JSONSerialization.data(withJSONObject: ["properties": properties]), timeout: .seconds(15),
            limit: 1 << 20)
        guard answer.status == 200 else {
            throw Failure(
                description: "PATCH Datastreams(\(id)) answered HTTP \(answer.status): \(answer.text.prefix(300))")
        }
    }

    /// The start of the newest observation of a datastream, or nil when it has none.
    func newestTime(of datastream: Int64) async throws -> Date? {
        let page = try await get(
            "Datastreams(\(datastream))/Observations",
            ["$orderby": "phenomenonTime desc", "$top": "1", "$select": "phenomenonTime"])
        guard let values = page["value"] as? [[String: Any]] else {
            throw Failure(description: "the observations of Datastream \(datastream) are not a SensorThings page")
        }
        guard let text = values.first?["phenomenonTime"] as? String else { return nil }
        let start = text.split(separator: "/").first.map(String.init) ?? text
        return CountsCSV.time(start)
    }

    /// Sends rows of `[phenomenonTime, result]` per datastream in one request; answers how many rows
    /// the service refused.
    func createObservations(_ rows: [(datastream: Int64, rows: [[Any]])]) async throws -> Int {
        let body = rows.map { group -> [String: Any] in
            [
                "Datastream": ["@iot.id": group.datastream], "components": ["phenomenonTime", "result"],
                "dataArray@iot.count": group.rows.count, "dataArray": group.rows,
            ]
        }
        let answer = try await http.fetch(
            "\(baseURL)/v1.1/CreateObservations", method: .POST, headers: headers,
            body: try JSONSerialization.data(withJSONObject: body), timeout: .seconds(60), limit: 16 << 20)
        guard answer.status == 201 else {
            throw Failure(
                description: "CreateObservations answered HTTP \(answer.status): \(answer.text.prefix(300))",
                datastreamMissing: answer.status == 409)
        }
        let results = (try? JSONSerialization.jsonObject(with: answer.body) as? [Any]) ?? []
        return results.filter { ($0 as? String) == "error" }.count
    }

    private func get(_ path: String, _ query: [String: String]) async throws -> [String: Any] {
        var components = URLComponents(string: "\(baseURL)/v1.1/\(path)")
        components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        guard let url = components?.url?.absoluteString else {
            throw Failure(description: "\(baseURL) is not a usable address")
        }
        let answer = try await http.fetch(url, headers: headers, timeout: .seconds(15), limit: 4 << 20)
        guard answer.status == 200 else {
            throw Failure(description: "GET \(path) answered HTTP \(answer.status): \(answer.text.prefix(300))")
        }
        guard let document = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else {
            throw Failure(description: "GET \(path) did not answer a JSON object")
        }
        return document
    }
}
