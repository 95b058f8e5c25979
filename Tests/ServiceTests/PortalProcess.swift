import Foundation
import TestSupport
import Testing

/// `datenplattform portal` as a real process in front of a catalog process, both on loopback.
final class PortalProcess: @unchecked Sendable {
    let catalog: CatalogProcess
    let host: String
    let port: Int
    private(set) var pid: pid_t = 0
    var url: String { "http://\(host):\(port)" }
    var config: URL { catalog.root.appendingPathComponent("portal.yaml") }

    /// `extra` adds lines to the portal's configuration.
    init(catalog: CatalogProcess, host: String, language: String = "de", extra: String = "") throws {
        self.catalog = catalog
        self.host = host
        port = try FreePort.find(host: host)
        try Data(
            """
            listen:
              host: \(host)
              port: \(port)
            public_url: http://\(host):\(port)
            title: "Offene Daten Testhausen"
            language: \(language)
            imprint_url: https://www.testhausen.example/impressum
            privacy_url: https://www.testhausen.example/datenschutz
            catalog:
              api_url: \(catalog.url)
              public_url: \(catalog.url)
              timeout: 2s
            \(extra)

            """.utf8
        ).write(to: config)
    }

    func start() async throws {
        pid = try await ServiceLauncher.start(
            ["portal", "--config", config.path], in: catalog.root,
            log: catalog.root.appendingPathComponent("portal.log"), marker: config.path
        ) { (try? await self.get("/health").status) == 200 }
    }

    func stop() { ServiceLauncher.stop(&pid) }

    func get(_ path: String) async throws -> CatalogProcess.Reply {
        try await catalog.fetch(url + path)
    }

    func head(_ path: String) async throws -> CatalogProcess.Reply {
        try await catalog.fetch(url + path, method: .HEAD)
    }

    /// What the portal wrote to its log so far.
    var log: String {
        (try? String(contentsOf: catalog.root.appendingPathComponent("portal.log"), encoding: .utf8)) ?? ""
    }
}
