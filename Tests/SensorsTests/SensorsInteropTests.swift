import Foundation
import TestSupport
import Testing

/// The sensor service driven by frost-sta-client, FROST-Server's Python client, from the virtual
/// environment that `scripts/python-clients` makes. With `CI=true` a missing environment is a
/// failure, not a skip.
@Suite(.serialized) struct SensorsInteropTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".build/python-clients/bin/python")
    static let available = FileManager.default.isExecutableFile(atPath: python.path)
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: available || required, "run scripts/python-clients to make the Python clients"))
    func frostClient_deepInsertsFiltersExpandsPagesPatchesDeletes() async throws {
        try #require(Self.available, "the Python clients are missing: run scripts/python-clients")
        let sensors = try await SensorsProcess(host: "127.0.64.10")
        defer { sensors.stop() }
        try await sensors.start()
        let output = sensors.root.appendingPathComponent("frost.out").path
        let status = try await offloaded {
            try Spawn.run(
                Self.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/frost_sta_client.py").path,
                    sensors.api, sensors.token,
                ], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)\n\(sensors.logText)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
    }

    /// The same client over HTTPS through the site's proxy (nginx, as the shipped blueprint renders it),
    /// with the service under `/sensoren` as every shipped site has it: the links the service gives
    /// (`@iot.selfLink`, `@iot.nextLink`, navigation) lead the client back through the proxy.
    @Test(
        .enabled(
            if: (available && NginxProxy.isInstalled) || required, "nginx or the Python clients are missing"))
    func frostClient_overHTTPS_throughTheProxy_underAPath() async throws {
        try #require(Self.available, "the Python clients are missing: run scripts/python-clients")
        try #require(NginxProxy.isInstalled, "nginx is missing: scripts/install-packages installs it")
        let address = "127.0.64.11"
        let httpsPort = try FreePort.find(host: address)
        let base = "https://\(address):\(httpsPort)/sensoren"
        let sensors = try await SensorsProcess(host: address, publicURL: base)
        defer { sensors.stop() }
        try await sensors.start()
        // A rate the client's many quick calls stay under.
        let proxy = try await NginxProxy(
            try Fixtures.proxiedFiles(
                httpsPort: httpsPort, httpPort: try FreePort.find(host: address), address: address,
                apiPort: sensors.port, host: address, path: "/sensoren", rate: 1000))
        defer { proxy.stop() }
        try await waitUntil("nginx answers on \(httpsPort)") {
            (try? await Curl.run(["--cacert", proxy.authorityFile.path, base + "/health"]))?.status == 200
        }
        let output = sensors.root.appendingPathComponent("frost.out").path
        let status = try await offloaded {
            try Spawn.run(
                Self.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/frost_sta_client.py").path,
                    base + "/v1.1", sensors.token,
                ], environment: ["REQUESTS_CA_BUNDLE": proxy.authorityFile.path], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)\n\(sensors.logText)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
        // Every request went through the proxy, under the path.
        let log = try String(contentsOfFile: proxy.accessLog, encoding: .utf8)
        #expect(log.contains("\"POST /sensoren/v1.1/Things\" 201"), "\(log)")
    }
}
