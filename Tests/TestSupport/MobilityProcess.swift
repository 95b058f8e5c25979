package import Foundation
package import HTTPTransport

/// `datenplattform mobility` as a real process on its own loopback address, with a fresh database,
/// called over HTTP as clients do.
package final class MobilityProcess: @unchecked Sendable {
    package let root: URL
    package let host: String
    package let port: Int
    package let token = "mobility-test-token-\(UUID().uuidString.prefix(8))"
    package private(set) var pid: pid_t = 0
    package var config: URL { root.appendingPathComponent("mobility.yaml") }
    package var url: String { "http://\(host):\(port)" }

    /// `extra` adds configuration lines (`{url}` stands for the service's own address); `files` are
    /// written beside the configuration first (a parking file).
    package init(host: String, extra: String = "", files: [String: String] = [:]) async throws {
        root = try Fixtures.temporaryFolder("stellwerk-mobility")
        self.host = host
        port = try FreePort.find(host: host)
        for (name, content) in files { try Data(content.utf8).write(to: root.appendingPathComponent(name)) }
        let extra = extra.replacingOccurrences(of: "{url}", with: "http://\(host):\(port)")
        try Data(
            """
            listen:
              host: \(host)
              port: \(port)
            public_url: http://\(host):\(port)
            database: sqlite:data/mobility.sqlite
            feeds_folder: data/gtfs
            admin_token: \(token)
            max_upload_megabytes: 8
            log_level: warning
            \(extra)

            """.utf8
        ).write(to: config)
        let migrated = try await datenplattform(["migrate"])
        guard migrated.status == 0 else { throw TestServerError("mobility migrate failed: \(migrated.standardError)") }
    }

    /// `datenplattform mobility ARGUMENTS --config …` in the service's folder.
    package func datenplattform(_ arguments: [String]) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run("datenplattform", ["mobility"] + arguments + ["--config", config.path], in: root)
    }

    package func start() async throws {
        pid = try await ServiceLauncher.start(
            ["mobility", "--config", config.path], in: root, log: log, marker: root.path
        ) { (try? await self.send(.GET, "/health").status) == 200 }
    }

    package var log: URL { root.appendingPathComponent("mobility.log") }
    package var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Ends the process and keeps its folder, for a restart.
    package func stopProcess() { ServiceLauncher.stop(&pid) }

    package func stop() {
        ServiceLauncher.stop(&pid)
        try? FileManager.default.removeItem(at: root)
    }

    package struct Reply {
        package var status: Int
        package var body: Data
        package var headers: [String: String]
        package var text: String { String(decoding: body, as: UTF8.self) }
        package var object: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        package var error: [String: Any] { object["error"] as? [String: Any] ?? [:] }

        package init(status: Int, body: Data, headers: [String: String]) {
            self.status = status
            self.body = body
            self.headers = headers
        }
    }

    package func send(
        _ method: HTTPExchange.Method, _ path: String, body: Data? = nil, authorization: String? = nil
    ) async throws -> Reply {
        var headers: [(String, String)] = []
        if body != nil { headers.append(("Content-Type", "application/zip")) }
        if let authorization { headers.append(("Authorization", authorization)) }
        let answer = try await Self.http.fetch(
            url + path, method: method, headers: headers, body: body, timeout: .seconds(60), limit: 64 << 20)
        var fields: [String: String] = [:]
        for field in answer.headers { fields[field.name.lowercased()] = field.value }
        return Reply(status: answer.status, body: answer.body, headers: fields)
    }

    /// Uploads a GTFS zip with the admin token.
    package func upload(_ zip: URL) async throws -> Reply {
        try await send(.POST, "/api/gtfs/feeds", body: try Data(contentsOf: zip), authorization: "Bearer \(token)")
    }

    private static let http = HTTPExchange()
}
