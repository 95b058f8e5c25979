import Foundation
import HTTPTransport
import TestSupport
import Testing

/// `datenplattform catalog` as a real process on its own loopback address, with a fresh SQLite
/// database, and a way to call its CKAN API over HTTP as clients do.
final class CatalogProcess: @unchecked Sendable {
    let root: URL
    let host: String
    let port: Int
    let token = "kat-test-token-\(UUID().uuidString.prefix(8))"
    private(set) var pid: pid_t = 0
    var config: URL { root.appendingPathComponent("catalog.yaml") }
    var url: String { "http://\(host):\(port)" }

    init(
        host: String, seed: Bool = true, pageSize: Int = 100, database: String = "sqlite:data/catalog.sqlite"
    )
        async throws
    {
        root = try Fixtures.temporaryFolder("stellwerk-catalog")
        self.host = host
        port = try FreePort.find(host: host)
        try Data(
            """
            listen:
              host: \(host)
              port: \(port)
            public_url: http://\(host):\(port)
            database: \(database)
            admin_token: \(token)
            dcat:
              publisher: "Stadt Kaiserslautern"
              contributor_id: http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz
              page_size: \(pageSize)
            log_level: warning

            """.utf8
        ).write(to: config)
        let migrated = try await run(["catalog", "migrate", "--config", config.path])
        #expect(migrated.status == 0, "\(migrated.standardError)")
        if seed {
            let seeded = try await run([
                "catalog", "import", Fixtures.repositoryRoot.appendingPathComponent("Services/Seed/catalog.json").path,
                "--config", config.path,
            ])
            #expect(seeded.status == 0, "\(seeded.standardError)")
        }
    }

    func run(_ arguments: [String]) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run("datenplattform", arguments, in: root)
    }

    func start() async throws {
        pid = try await ServiceLauncher.start(
            ["catalog", "--config", config.path], in: root, log: root.appendingPathComponent("catalog.log"),
            marker: root.path
        ) { (try? await self.get("/health").status) == 200 }
    }

    /// Stops the process; the folder stays.
    func stopProcess() { ServiceLauncher.stop(&pid) }

    func stop() {
        stopProcess()
        try? FileManager.default.removeItem(at: root)
    }

    struct Reply {
        var status: Int
        var body: [String: Any]
        var text: String
        var headers: [String: String] = [:]
        var result: Any? { body["result"] }
        var error: [String: Any] { body["error"] as? [String: Any] ?? [:] }
        var errorType: String? { error["__type"] as? String }
    }

    /// A GET with query parameters.
    func get(_ path: String, _ query: [(String, String)] = [], token: String? = nil) async throws -> Reply {
        var components = URLComponents(string: url + path)!
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        return try await send(
            .GET, components.url!.absoluteString, headers: token.map { [("Authorization", $0)] } ?? [])
    }

    /// A HEAD request, as uptime monitors and `curl -I` send it.
    func head(_ path: String) async throws -> Reply {
        try await send(.HEAD, url + path)
    }

    /// A GET (or another method without a body) of any address, with the response headers.
    func fetch(_ address: String, method: HTTPExchange.Method = .GET) async throws -> Reply {
        try await send(method, address)
    }

    /// A POST with a JSON body (or raw bytes).
    func post(
        _ path: String, json: Any? = nil, raw: String? = nil, token: String? = nil, header: String = "Authorization"
    )
        async throws -> Reply
    {
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append((header, token)) }
        let body = try raw.map { Data($0.utf8) } ?? JSONSerialization.data(withJSONObject: json ?? [:])
        return try await send(.POST, url + path, headers: headers, body: body)
    }

    func action(_ name: String, _ parameters: [String: Any] = [:], token: String? = nil) async throws -> Reply {
        try await post("/api/3/action/\(name)", json: parameters, token: token)
    }

    private static let http = HTTPExchange()

    private func send(
        _ method: HTTPExchange.Method, _ address: String, headers: [(String, String)] = [], body: Data? = nil
    ) async throws -> Reply {
        let answer = try await Self.http.fetch(
            address, method: method, headers: headers, body: body, timeout: .seconds(30), limit: 64 << 20)
        let body = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any] ?? [:]
        var fields: [String: String] = [:]
        for field in answer.headers { fields[field.name.lowercased()] = field.value }
        return Reply(status: answer.status, body: body, text: answer.text, headers: fields)
    }
}
