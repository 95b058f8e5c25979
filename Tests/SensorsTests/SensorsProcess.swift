import Foundation
import HTTPTransport
import TestSupport

/// `datenplattform sensors` as a real process on its own loopback address, with a fresh database,
/// and a way to call its SensorThings API over HTTP as clients do.
final class SensorsProcess: @unchecked Sendable {
    let root: URL
    let host: String
    let port: Int
    let token = "sta-test-token-\(UUID().uuidString.prefix(8))"
    private(set) var pid: pid_t = 0
    var config: URL { root.appendingPathComponent("sensors.yaml") }
    var url: String { "http://\(host):\(port)" }
    var api: String { url + "/v1.1" }

    /// `publicURL`: the address clients use, when it is not the service's own (behind a proxy).
    init(
        host: String, database: String = "sqlite:data/sensors.sqlite", extra: String = "", publicURL: String? = nil
    ) async throws {
        root = try Fixtures.temporaryFolder("stellwerk-sensors")
        self.host = host
        port = try FreePort.find(host: host)
        try Data(
            """
            listen:
              host: \(host)
              port: \(port)
            public_url: \(publicURL ?? "http://\(host):\(port)")
            database: \(database)
            admin_token: \(token)
            page_size: 50
            max_page_size: 200
            log_level: warning
            \(extra)

            """.utf8
        ).write(to: config)
        let migrated = try await ProcessRunner.run(
            "datenplattform", ["sensors", "migrate", "--config", config.path], in: root)
        guard migrated.status == 0 else { throw TestServerError("sensors migrate failed: \(migrated.standardError)") }
    }

    func start() async throws {
        pid = try await ServiceLauncher.start(
            ["sensors", "--config", config.path], in: root, log: log, marker: root.path
        ) { (try? await self.send(.GET, self.url + "/health").status) == 200 }
    }

    var log: URL { root.appendingPathComponent("sensors.log") }
    /// What the service logged, for failure messages.
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func stopProcess() { ServiceLauncher.stop(&pid) }

    func stop() {
        stopProcess()
        try? FileManager.default.removeItem(at: root)
    }

    struct Reply {
        var status: Int
        var text: String
        var headers: [String: String]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var values: [[String: Any]] { object["value"] as? [[String: Any]] ?? [] }
        var ids: [Int] { values.compactMap { $0["@iot.id"] as? Int } }
        var message: String { object["message"] as? String ?? "" }
    }

    /// A GET of a path below `/v1.1` (or any address), with query parameters.
    func get(_ path: String, _ query: [(String, String)] = []) async throws -> Reply {
        var components = URLComponents(string: path.hasPrefix("http") ? path : api + path)!
        if !query.isEmpty {
            components.percentEncodedQuery = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(
                separator: "&")
        }
        return try await send(.GET, components.url!.absoluteString)
    }

    /// A request with a JSON body (given as text, so malformed bodies can be sent too), with the token
    /// unless `authorized` is false.
    func send(
        _ method: HTTPExchange.Method, _ path: String, body: String? = nil, contentType: String = "application/json",
        authorization: String? = nil, authorized: Bool = true
    ) async throws -> Reply {
        var headers: [(String, String)] = []
        if body != nil { headers.append(("Content-Type", contentType)) }
        if let authorization {
            headers.append(("Authorization", authorization))
        } else if authorized {
            headers.append(("Authorization", "Bearer \(token)"))
        }
        let address = path.hasPrefix("http") ? path : api + path
        let answer = try await Self.http.fetch(
            address, method: method, headers: headers, body: body.map { Data($0.utf8) }, timeout: .seconds(30),
            limit: 64 << 20)
        var fields: [String: String] = [:]
        for field in answer.headers { fields[field.name.lowercased()] = field.value }
        return Reply(status: answer.status, text: answer.text, headers: fields)
    }

    func post(_ path: String, _ body: String) async throws -> Reply { try await send(.POST, path, body: body) }

    private static let http = HTTPExchange()

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~$()/,:'")))
            ?? text
    }
}
